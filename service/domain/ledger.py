"""Building the promise ledger from a changelog: the baseline, every move and the date in force.

A full re-sync must rebuild the same ledger, so the order of the changes given does not matter:
they are put in one total order first (time, then the change's external id compared by its
numeric parts, then the values), and changes stamped with the same instant are chained so that
each one starts from the date the previous one left.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from service.domain.commitments import Commitment, CommitmentMove
from service.domain.enums import CommitmentSubject, SourceKind
from service.domain.work import Change, Milestone, WorkItem

# The sync stores changes of the promised date (Jira's "duedate" or the operator's custom date
# field; Trello's "due") under this name. The providers' own names serve callers that hold raw
# changes.
PROMISED_DATE_FIELD = "promised_date"
JIRA_PROMISE_FIELD = "duedate"
TRELLO_PROMISE_FIELD = "due"
# A milestone's observed due-date changes (the store records them at each write of milestones:
# providers keep no history of them) are read under this name, Jira's of a version's date.
MILESTONE_PROMISE_FIELD = "releaseDate"

_DATE_PREFIX = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
_DIGITS = re.compile(r"(\d+)")


def default_promise_field(kind: SourceKind) -> str:
    """The provider's own name of the promised-date field in a raw changelog."""
    return TRELLO_PROMISE_FIELD if kind is SourceKind.TRELLO else JIRA_PROMISE_FIELD


def parse_promised_date(value: str | None) -> date | None:
    """The calendar date of a promised-date value as providers write it.

    Jira writes "2026-06-05" (from/to) or "2026-06-05 00:00:00.0" (fromString/toString); date-time
    custom fields and Trello's `due` are ISO date-times ("2015-06-10T15:00:00.000Z"). The date part
    is taken as written: Trello's is UTC, Jira's is the site's day.
    """
    if not value:
        return None
    match = _DATE_PREFIX.match(value)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def change_dates(change: Change) -> tuple[date | None, date | None]:
    """The (from, to) dates of a promised-date change, preferring raw values over display strings."""
    from_date = parse_promised_date(change.from_value) or parse_promised_date(change.from_display)
    to_date = parse_promised_date(change.to_value) or parse_promised_date(change.to_display)
    return from_date, to_date


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Jira change ids are "<history id>:<index>": compare their numbers as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part)


def _total_order_key(change: Change) -> tuple[object, ...]:
    return (
        change.changed_at,
        _natural_key(change.external_id),
        change.from_value or "",
        change.to_value or "",
        change.from_display or "",
        change.to_display or "",
        change.author or "",
    )


def order_changes(changes: Iterable[Change]) -> list[Change]:
    """Changes in one total order that does not depend on the order they were given in."""
    return sorted(changes, key=_total_order_key)


def _chain_ties(changes: Sequence[Change], start: date | None) -> list[Change]:
    """Within one instant, follow the chain of dates.

    Each step takes the change that starts from the date in force, else the head of what is left
    (a change whose "from" no other pending change leads to), else the first in the total order.
    """
    ordered: list[Change] = []
    current = start
    pending = list(changes)
    while pending:
        pick = next((c for c in pending if change_dates(c)[0] == current), None)
        if pick is None:
            targets = {change_dates(c)[1] for c in pending}
            pick = next((c for c in pending if change_dates(c)[0] not in targets), pending[0])
        pending.remove(pick)
        ordered.append(pick)
        current = change_dates(pick)[1]
    return ordered


def _promise_changes(changes: Iterable[Change], promise_field: str) -> list[Change]:
    wanted = promise_field.casefold()
    ordered = order_changes(c for c in changes if c.field.casefold() == wanted)
    result: list[Change] = []
    current: date | None = None
    index = 0
    while index < len(ordered):
        end = index
        while end < len(ordered) and ordered[end].changed_at == ordered[index].changed_at:
            end += 1
        group = _chain_ties(ordered[index:end], current) if end - index > 1 else ordered[index:end]
        result.extend(group)
        current = change_dates(group[-1])[1]
        index = end
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class PromiseHistory:
    """What the ledger is built from for one subject."""

    subject: CommitmentSubject
    subject_id: int
    changes: Sequence[Change]
    promise_field: str
    current_date: date | None
    created_at: datetime
    delivered_at: datetime | None = None


def build_commitment(history: PromiseHistory) -> Commitment | None:
    """The commitment of one subject, or None when no date was ever promised.

    The baseline is the first date in force: the "from" of the first change when the date was set
    at creation (promised then), else the first date set. Setting the same calendar date again is
    not a move. The current date is the subject's current value, which wins over the changelog
    when the two disagree (a changelog can be truncated; the field cannot).
    """
    changes = _promise_changes(history.changes, history.promise_field)
    baseline: date | None = None
    promised_at: datetime | None = None
    moves: list[CommitmentMove] = []
    if changes:
        first_from = change_dates(changes[0])[0]
        if first_from is not None:
            baseline, promised_at = first_from, history.created_at
    for change in changes:
        from_date, to_date = change_dates(change)
        if baseline is None:
            if to_date is not None:
                baseline, promised_at = to_date, change.changed_at
            continue
        if from_date == to_date:
            continue
        moves.append(
            CommitmentMove(
                moved_at=change.changed_at,
                moved_by=change.author,
                from_date=from_date,
                to_date=to_date,
                change_external_id=change.external_id,
            )
        )
    if baseline is None or promised_at is None:
        if history.current_date is None:
            return None
        baseline, promised_at = history.current_date, history.created_at
    return Commitment(
        subject=history.subject,
        subject_id=history.subject_id,
        baseline_date=baseline,
        current_date=history.current_date,
        promised_at=promised_at,
        moves=tuple(moves),
        delivered_at=history.delivered_at,
    )


def item_delivered_at(item: WorkItem) -> datetime | None:
    """When a done item was delivered: its resolution time, else its last update."""
    if not item.is_done:
        return None
    return item.resolved_at or item.updated_at


def build_item_commitment(
    item: WorkItem, changes: Iterable[Change], *, promise_field: str = PROMISED_DATE_FIELD
) -> Commitment | None:
    """The commitment of a work item from its changes; the item must have its store id."""
    if item.id is None:
        raise ValueError(f"item {item.key} has no id; commitments are keyed by the stored item")
    own = [c for c in changes if c.item_external_id == item.external_id]
    return build_commitment(
        PromiseHistory(
            subject=CommitmentSubject.ITEM,
            subject_id=item.id,
            changes=own,
            promise_field=promise_field,
            current_date=item.due_date,
            created_at=item.created_at,
            delivered_at=item_delivered_at(item),
        )
    )


def milestone_delivered_at(milestone: Milestone) -> datetime | None:
    """When a milestone was delivered; a released Jira version without a time counts from its date."""
    if milestone.completed_at is not None:
        return milestone.completed_at
    if milestone.released and milestone.due_date is not None:
        return datetime.combine(milestone.due_date, time.min, tzinfo=UTC)
    return None


def build_milestone_commitment(
    milestone: Milestone,
    changes: Iterable[Change],
    *,
    created_at: datetime,
    promise_field: str = MILESTONE_PROMISE_FIELD,
) -> Commitment | None:
    """The commitment of a milestone from its observed due-date changes.

    Jira keeps no changelog for versions, so the store records the changes it observes at each
    write of milestones (`list_milestone_changes`), read as `Change` values keyed by the
    milestone's external id, under `promise_field`.
    """
    if milestone.id is None:
        raise ValueError(f"milestone {milestone.name} has no id; commitments are keyed by the stored row")
    own = [c for c in changes if c.item_external_id == milestone.external_id]
    return build_commitment(
        PromiseHistory(
            subject=CommitmentSubject.MILESTONE,
            subject_id=milestone.id,
            changes=own,
            promise_field=promise_field,
            current_date=milestone.due_date,
            created_at=created_at,
            delivered_at=milestone_delivered_at(milestone),
        )
    )
