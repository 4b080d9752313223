"""Item facts from an item, its changelog and its activity, now or "as of" a past instant.

Reconstruction walks the changes after the instant backwards and undoes each one on the item as
stored now; what no change records (title, kind, estimates, an "is blocked by" link) is taken as
it is now.

The last activity is the latest sign of work: the item's creation, its changes, and its activity
(comments, Trello card actions; `service.domain.work.Activity`). The provider's own "updated"
stamp is not one: pmbridge's own flag comments move it too, so a stale item would look worked on
the moment pmbridge said it was stale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime

from service.domain.enums import StatusCategory
from service.domain.ledger import build_item_commitment, change_dates, order_changes
from service.domain.work import (
    SPRINT_ID_PREFIX,
    Activity,
    Change,
    Person,
    WorkItem,
    priority_from_name,
    sprint_milestone_id,
    status_category_from_list_name,
)
from service.rules.facts import FactsConfig, ItemFacts, Membership, Reopening


def split_ids(value: str | None) -> tuple[str, ...]:
    """Jira's Sprint changelog carries comma-separated ids ("12, 13"); Fix Version one id."""
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _field_in(change: Change, names: tuple[str, ...]) -> bool:
    return change.field.casefold() in names


def membership_ids(change: Change, config: FactsConfig) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The milestone ids a membership change names before and after, as the milestones are keyed.

    The one place a Sprint changelog entry's bare sprint ids ("11" -> "11, 12", stored as Jira sent
    them) become sprint milestone ids (`sprint:11`); other membership fields name milestones as
    stored."""
    before, after = split_ids(change.from_value), split_ids(change.to_value)
    if _field_in(change, config.sprint_fields):
        return tuple(map(sprint_milestone_id, before)), tuple(map(sprint_milestone_id, after))
    return before, after


def _status_name(value: str | None, fallback: str | None) -> str:
    return value or fallback or ""


class _Reader:
    """Reads one source's changes: which field a change touches and what a status means."""

    def __init__(self, item: WorkItem, config: FactsConfig) -> None:
        self.config = config
        self.categories = {name.casefold(): c for name, c in config.status_categories.items()}
        self.categories.setdefault(item.status.casefold(), item.status_category)
        self.blocked_labels = tuple(label.casefold() for label in config.blocked_labels)

    def category(self, status: str) -> StatusCategory:
        known = self.categories.get(status.casefold())
        return known if known is not None else status_category_from_list_name(status)

    def status_change(self, change: Change) -> tuple[StatusCategory, StatusCategory] | None:
        if not _field_in(change, self.config.status_fields):
            return None
        before = self.category(_status_name(change.from_display, change.from_value))
        after = self.category(_status_name(change.to_display, change.to_value))
        return before, after

    def _labels_blocked(self, labels: str | None) -> bool:
        return any(label.casefold() in self.blocked_labels for label in (labels or "").split())

    def blocked_before_after(self, change: Change) -> tuple[bool, bool] | None:
        """Whether a change turned the blocked signal it touches on or off (None: not a signal)."""
        if _field_in(change, self.config.flagged_fields):
            return bool(change.from_value or change.from_display), bool(change.to_value or change.to_display)
        if _field_in(change, self.config.single_label_fields):
            removed = (change.from_value or "").casefold() in self.blocked_labels
            added = (change.to_value or "").casefold() in self.blocked_labels
            return (removed, added) if removed or added else None
        if _field_in(change, self.config.label_fields):
            before = self._labels_blocked(change.from_display or change.from_value)
            after = self._labels_blocked(change.to_display or change.to_value)
            return (before, after) if before != after else None
        if _field_in(change, self.config.status_fields):
            before_name = _status_name(change.from_display, change.from_value).casefold()
            after_name = _status_name(change.to_display, change.to_value).casefold()
            return "blocked" in before_name, "blocked" in after_name
        return None

    def is_reopen(self, change: Change) -> bool:
        moved = self.status_change(change)
        if moved is not None:
            return moved[0] is StatusCategory.DONE and moved[1] is not StatusCategory.DONE
        if _field_in(change, self.config.resolution_fields):
            return bool(change.from_value or change.from_display) and not (
                change.to_value or change.to_display
            )
        return False


def _undo(item: WorkItem, change: Change, reader: _Reader) -> WorkItem:
    config = reader.config
    name = change.field.casefold()
    updates: dict[str, object] = {}
    if name in config.status_fields:
        status = _status_name(change.from_display, change.from_value) or item.status
        updates["status"] = status
        updates["status_category"] = reader.category(status)
    if name == config.promise_field.casefold():
        updates["due_date"] = change_dates(change)[0]
    if name in config.assignee_fields:
        updates["assignee"] = (
            Person(external_id=change.from_value, display_name=change.from_display or change.from_value)
            if change.from_value
            else None
        )
    if name in config.priority_fields:
        updates["priority"] = priority_from_name(change.from_display or change.from_value)
    if name in config.label_fields:
        updates["labels"] = tuple((change.from_display or change.from_value or "").split())
    if name in config.single_label_fields:
        labels = [label for label in item.labels if label != change.to_value]
        if change.from_value and change.from_value not in labels:
            labels.append(change.from_value)
        updates["labels"] = tuple(labels)
    if name in config.membership_fields:
        before, after = membership_ids(change, config)
        removed = set(after) - set(before)
        kept = tuple(m for m in item.milestone_external_ids if m not in removed)
        restored = tuple(m for m in before if m not in kept)
        updates["milestone_external_ids"] = kept + restored
    blocked = reader.blocked_before_after(change)
    if blocked is not None:
        updates["blocked"] = blocked[0]
    return dataclasses.replace(item, **updates) if updates else item  # type: ignore[arg-type]


def _own_changes(item: WorkItem, changes: Iterable[Change]) -> list[Change]:
    return order_changes(c for c in changes if c.item_external_id == item.external_id)


def item_as_of(
    item: WorkItem, changes: Iterable[Change], as_of: datetime, *, config: FactsConfig
) -> WorkItem | None:
    """The item as it stood at `as_of`, or None when it did not exist yet."""
    if item.created_at > as_of:
        return None
    reader = _Reader(item, config)
    ordered = _own_changes(item, changes)
    past = [c for c in ordered if c.changed_at <= as_of]
    state = item
    for change in reversed([c for c in ordered if c.changed_at > as_of]):
        state = _undo(state, change, reader)
    resolved_at: datetime | None = None
    if state.status_category is StatusCategory.DONE:
        if item.resolved_at is not None and item.resolved_at <= as_of:
            resolved_at = item.resolved_at
        else:
            resolved_at = _last_entry_into(past, reader, StatusCategory.DONE)
    updated_at = max([item.created_at, *(c.changed_at for c in past)])
    return dataclasses.replace(state, resolved_at=resolved_at, updated_at=updated_at)


def _last_entry_into(changes: Sequence[Change], reader: _Reader, category: StatusCategory) -> datetime | None:
    return _first_entry_into(reversed(changes), reader, category)


def _first_entry_into(
    changes: Iterable[Change], reader: _Reader, category: StatusCategory
) -> datetime | None:
    """When the item first moved into `category` among `changes`, in their order."""
    for change in changes:
        moved = reader.status_change(change)
        if moved is not None and moved[1] is category and moved[0] is not category:
            return change.changed_at
    return None


def _reopenings(changes: Sequence[Change], reader: _Reader) -> tuple[Reopening, ...]:
    """Each time the item left done, with when it had entered done; a status change and a cleared
    resolution at one instant are one reopening."""
    found: dict[datetime, Reopening] = {}
    done_at: datetime | None = None
    for change in changes:
        if reader.is_reopen(change):
            if change.changed_at not in found:
                found[change.changed_at] = Reopening(done_at=done_at, reopened_at=change.changed_at)
            done_at = None
            continue
        moved = reader.status_change(change)
        if moved is not None and moved[1] is StatusCategory.DONE and moved[0] is not StatusCategory.DONE:
            done_at = change.changed_at
    return tuple(found[instant] for instant in sorted(found))


def _joined(item: WorkItem, changes: Sequence[Change], config: FactsConfig) -> dict[str, datetime]:
    """When the item last joined each milestone it is in: the membership change that added it, else
    its creation (created in it, or no change recorded)."""
    joined: dict[str, datetime] = {}
    for change in changes:
        if change.field.casefold() not in config.membership_fields:
            continue
        before, after = membership_ids(change, config)
        for milestone_id in after:
            if milestone_id not in before:
                joined[milestone_id] = change.changed_at
    return {m: joined.get(m, item.created_at) for m in item.milestone_external_ids}


def _membership_history(item: WorkItem, changes: Sequence[Change], reader: _Reader) -> tuple[Membership, ...]:
    """The item's milestones and done-ness from its creation on, walking its changes back from the
    item as it is: each membership or status change undone gives the state before it.

    Only sprint facts read it: an item never in a sprint gets none (most items, and facts are built
    for every item of a project at each evaluation)."""
    config = reader.config
    if not any(m.startswith(SPRINT_ID_PREFIX) for m in item.milestone_external_ids) and not any(
        _field_in(c, config.sprint_fields) for c in changes
    ):
        return ()
    milestones = set(item.milestone_external_ids)
    done = item.is_done
    states: list[Membership] = []
    for change in reversed(changes):
        is_membership = change.field.casefold() in config.membership_fields
        moved = reader.status_change(change)
        if not is_membership and moved is None:
            continue
        states.append(Membership(since=change.changed_at, milestone_ids=frozenset(milestones), done=done))
        if is_membership:
            before, after = membership_ids(change, config)
            milestones.difference_update(set(after) - set(before))
            milestones.update(before)
        if moved is not None:
            done = moved[0] is StatusCategory.DONE
    # A change dated before the item's creation (clocks of a migrated or imported history) is kept in
    # order: the first state starts with whichever came first.
    first = min([item.created_at, *(s.since for s in states)])
    states.append(Membership(since=first, milestone_ids=frozenset(milestones), done=done))
    states.reverse()
    return tuple(states)


def _activity_times(activity: Iterable[Activity], as_of: datetime | None) -> list[datetime]:
    """When each activity last showed work, as of `as_of`: a comment edited after it counts from
    its creation, one created after it not at all."""
    if as_of is None:
        return [a.last_at for a in activity]
    return [a.last_at if a.last_at <= as_of else a.created_at for a in activity if a.created_at <= as_of]


def _own_activity(item: WorkItem, activity: Iterable[Activity]) -> list[Activity]:
    return [a for a in activity if a.item_external_id == item.external_id]


def _facts(
    item: WorkItem,
    changes: Sequence[Change],
    *,
    activity: Sequence[Activity],
    config: FactsConfig,
    as_of: datetime | None,
    data_as_of: datetime | None,
) -> ItemFacts:
    reader = _Reader(item, config)
    last_activity = max(
        [item.created_at, *(c.changed_at for c in changes), *_activity_times(activity, as_of)]
    )
    in_progress_since: datetime | None = None
    if item.status_category is StatusCategory.IN_PROGRESS:
        in_progress_since = _last_entry_into(changes, reader, StatusCategory.IN_PROGRESS) or item.created_at
    done_at: datetime | None = None
    if item.is_done:
        done_at = (
            item.resolved_at or _last_entry_into(changes, reader, StatusCategory.DONE) or item.updated_at
        )
    blocked_since: datetime | None = None
    if item.blocked:
        turned_on = [c.changed_at for c in changes if reader.blocked_before_after(c) == (False, True)]
        # A block with no recorded start (an "is blocked by" link) counts from the last activity:
        # it under-reports rather than alarms.
        blocked_since = turned_on[-1] if turned_on else last_activity
    reopenings = _reopenings(changes, reader)
    started_at = (
        _first_entry_into(changes, reader, StatusCategory.IN_PROGRESS) if done_at is not None else None
    )
    return ItemFacts(
        item=item,
        commitment=build_item_commitment(item, changes, promise_field=config.promise_field),
        changes=tuple(changes),
        as_of=as_of,
        last_activity_at=last_activity,
        in_progress_since=in_progress_since,
        blocked_since=blocked_since,
        done_at=done_at,
        times_reopened=len(reopenings),
        last_reopened_at=reopenings[-1].reopened_at if reopenings else None,
        reopenings=reopenings,
        joined_milestones=_joined(item, changes, config),
        memberships=_membership_history(item, changes, reader),
        data_as_of=data_as_of,
        started_at=started_at,
    )


def build_item_facts(
    item: WorkItem,
    changes: Iterable[Change],
    *,
    activity: Iterable[Activity] = (),
    config: FactsConfig | None = None,
    data_as_of: datetime | None = None,
) -> ItemFacts:
    """Facts of an item as stored now; `changes` and `activity` may hold other items' (they are
    skipped). Only the latest activity matters now, so `activity` may hold just that."""
    return _facts(
        item,
        _own_changes(item, changes),
        activity=_own_activity(item, activity),
        config=config or FactsConfig(),
        as_of=None,
        data_as_of=data_as_of,
    )


def build_item_facts_as_of(
    item: WorkItem,
    changes: Iterable[Change],
    as_of: datetime,
    *,
    activity: Iterable[Activity] = (),
    config: FactsConfig | None = None,
) -> ItemFacts | None:
    """Facts of the item as they stood at `as_of` (None before it existed): the dry run's input."""
    config = config or FactsConfig()
    own = _own_changes(item, changes)
    past_item = item_as_of(item, own, as_of, config=config)
    if past_item is None:
        return None
    past = [c for c in own if c.changed_at <= as_of]
    return _facts(
        past_item, past, activity=_own_activity(item, activity), config=config, as_of=as_of, data_as_of=as_of
    )
