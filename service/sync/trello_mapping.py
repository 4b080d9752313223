"""Trello wire models to the normalized model. Pure: no I/O, same input, same output.

- A board is a Project keyed by its shortLink; a card is a WorkItem of kind `card` keyed
  `<board shortLink>-<idShort>` (the number Trello shows on the card, unique within its board).
- The card's list is its status; the list's status category comes from the board's mapping
  (`list_categories` overrides, else the list's name).
- `due` is the promised date and `start` the start date, both as their UTC calendar day.
- Time spent and the estimate come from the number fields (hours) the source's `spent_field` and
  `estimate_field` name; without `estimate_field`, from a number field named like "Estimate (h)".
- An archived card (`closed`) stays visible with its list's category unless `archived_is_done`;
  archived card and list states are kept in `raw["pmbridge"]` next to checklist progress, members
  and custom field values.
- A card labelled as a milestone is also a Milestone of kind `card` (`card:<card id>`).
- A card action that shows work without changing a field the model keeps is Activity
  (`map_action_activity`): comments, checklists, members, creation, attachments, other edits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.trello import created_at_from_id, is_trello_id
from connectors.trello.models import (
    TrelloAction,
    TrelloBoard,
    TrelloCard,
    TrelloCustomField,
    TrelloList,
    TrelloMember,
)
from service.domain.enums import ActivityKind, ItemKind, MilestoneKind, Priority, StatusCategory
from service.domain.work import (
    Activity,
    Change,
    Milestone,
    Person,
    Project,
    WorkItem,
    priority_from_name,
    status_category_from_list_name,
)
from service.sync.trello_settings import TrelloSyncSettings

_HOUR_S = 3600

# Card actions that show work on the card, by the kind of activity they are. Moves, due and start
# dates, archiving, renames and labels are field changes (`map_action_changes`); an updateCard that
# records none of those (a description, a cover) is an edit, one that only reorders (`pos`) is not.
ACTIVITY_KINDS: Mapping[str, ActivityKind] = {
    "commentCard": ActivityKind.COMMENT,
    "updateComment": ActivityKind.COMMENT,
    "createCard": ActivityKind.CREATED,
    "copyCard": ActivityKind.CREATED,
    "convertToCardFromCheckItem": ActivityKind.CREATED,
    "emailCard": ActivityKind.CREATED,
    "addMemberToCard": ActivityKind.MEMBERS,
    "removeMemberFromCard": ActivityKind.MEMBERS,
    "addChecklistToCard": ActivityKind.CHECKLIST,
    "removeChecklistFromCard": ActivityKind.CHECKLIST,
    "createCheckItem": ActivityKind.CHECKLIST,
    "updateCheckItem": ActivityKind.CHECKLIST,
    "deleteCheckItem": ActivityKind.CHECKLIST,
    "updateCheckItemStateOnCard": ActivityKind.CHECKLIST,
    "addAttachmentToCard": ActivityKind.ATTACHMENT,
    "deleteAttachmentFromCard": ActivityKind.ATTACHMENT,
    "updateCustomFieldItem": ActivityKind.EDITED,
    "updateCard": ActivityKind.EDITED,
}
# Removes a comment's activity: a deleted comment is no longer a sign of work.
DELETE_COMMENT = "deleteComment"
_REORDER_ONLY = frozenset({"pos"})


def card_milestone_id(card_id: str) -> str:
    return f"card:{card_id}"


@dataclass(frozen=True, slots=True)
class BoardContext:
    """What mapping a board's cards needs: its lists with their categories, labels, people, fields."""

    board: TrelloBoard
    key: str
    lists: Mapping[str, TrelloList]
    list_names: Mapping[str, str]
    categories: Mapping[str, StatusCategory]
    members: Mapping[str, TrelloMember]
    custom_fields: Mapping[str, TrelloCustomField]
    settings: TrelloSyncSettings = field(default_factory=TrelloSyncSettings)
    # Ids of this board's number fields the settings name for time spent and the estimate.
    spent_field_id: str | None = None
    estimate_field_id: str | None = None

    @classmethod
    def of(cls, board: TrelloBoard, settings: TrelloSyncSettings) -> BoardContext:
        overrides = settings.list_categories.get(board.id.lower(), {})
        return cls(
            board=board,
            key=board.short_link or board.id,
            lists={item.id: item for item in board.lists},
            list_names={item.id: item.name for item in board.lists},
            categories={
                item.id: overrides.get(item.id.lower(), status_category_from_list_name(item.name))
                for item in board.lists
            },
            members={member.id: member for member in board.members},
            custom_fields={custom.id: custom for custom in board.custom_fields},
            settings=settings,
            spent_field_id=_number_field_id(board.custom_fields, settings.spent_field),
            estimate_field_id=_number_field_id(board.custom_fields, settings.estimate_field),
        )


def map_board(board: TrelloBoard, *, source_id: int) -> Project:
    return Project(
        source_id=source_id,
        external_id=board.id,
        key=board.short_link or board.id,
        name=board.name,
        url=board.url or board.short_url,
    )


def map_card(card: TrelloCard, *, context: BoardContext, source_id: int) -> WorkItem:
    settings = context.settings
    trello_list = context.lists.get(card.id_list)
    status = trello_list.name if trello_list is not None else ""
    category = context.categories.get(card.id_list) or status_category_from_list_name(status)
    if card.closed and settings.archived_is_done:
        category = StatusCategory.DONE
    labels = tuple(dict.fromkeys(label.name or label.color or label.id for label in card.labels))
    folded = {label.casefold() for label in labels}
    custom = _custom_values(card, context.custom_fields)
    return WorkItem(
        source_id=source_id,
        project_external_id=context.board.id,
        external_id=card.id,
        key=f"{context.key}-{card.id_short}" if card.id_short is not None else card.short_link or card.id,
        title=card.name,
        kind=ItemKind.CARD,
        status=status,
        status_category=category,
        priority=_priority(custom),
        assignee=_assignee(card, context.members),
        labels=labels,
        due_date=_day(card.due),
        start_date=_day(card.start),
        created_at=card.created_at,
        updated_at=card.last_activity,
        estimate_seconds=(
            _hours_in(card, context.estimate_field_id)
            if settings.estimate_field is not None
            else _estimate_seconds(custom)
        ),
        spent_seconds=_hours_in(card, context.spent_field_id),
        story_points=_number_named(custom, "point"),
        blocked=bool(folded & settings.blocked_labels) or "blocked" in status.casefold(),
        url=card.url or card.short_url,
        raw={
            **card.model_dump(mode="json", by_alias=True, exclude_none=True),
            "pmbridge": {
                "archived": card.closed,
                "list_archived": bool(trello_list is not None and trello_list.closed),
                "checklist": _checklist_progress(card),
                "members": list(card.id_members),
                "custom_fields": {name: value for name, (_, value) in custom.items()},
            },
        },
    )


def card_milestone(item: WorkItem, card: TrelloCard, *, context: BoardContext) -> Milestone | None:
    """The milestone a card labelled as one stands for; None for other cards."""
    if not {label.casefold() for label in item.labels} & context.settings.milestone_labels:
        return None
    return Milestone(
        source_id=item.source_id,
        project_external_id=item.project_external_id,
        external_id=card_milestone_id(card.id),
        name=card.name,
        kind=MilestoneKind.CARD,
        start_date=item.start_date,
        due_date=item.due_date,
        released=card.due_complete or item.status_category is StatusCategory.DONE,
    )


def map_action_changes(
    action: TrelloAction, *, source_id: int, list_names: Mapping[str, str] | None = None
) -> list[Change]:
    """Changes an action records, in the rules' vocabulary: `status` (list moves, list ids as values
    and names as display), `promised_date` (due), `start_date`, `closed`, `due_complete`, `title`,
    and `label` (one label added: to, or removed: from). Ids are the action id, or `<id>:<n>` when
    one action records several changes."""
    card = action.data.card
    if card is None:
        return []
    names = list_names or {}
    author = _author(action)
    found: list[tuple[str, str | None, str | None, str | None, str | None]] = []
    moved = action.list_change()
    if moved is not None:
        before, after = moved.before, moved.after
        found.append(
            (
                "status",
                before.id if before else None,
                after.id if after else None,
                (before.name or names.get(before.id)) if before else None,
                (after.name or names.get(after.id)) if after else None,
            )
        )
    for name, change in (("promised_date", action.due_change()), ("start_date", action.start_change())):
        if change is not None:
            from_value, from_display = _dates(change.before)
            to_value, to_display = _dates(change.after)
            found.append((name, from_value, to_value, from_display, to_display))
    for name, flag in (("closed", action.closed_change()), ("due_complete", action.due_complete_change())):
        if flag is not None:
            before_text, after_text = _flag(flag.before), _flag(flag.after)
            found.append((name, before_text, after_text, before_text, after_text))
    old = action.data.old
    if old is not None and "name" in old.model_fields_set:
        found.append(("title", old.name, card.name, old.name, card.name))
    if action.type in ("addLabelToCard", "removeLabelFromCard") and action.data.text:
        label = action.data.text
        added = action.type == "addLabelToCard"
        found.append(("label", None if added else label, label if added else None, None, None))
    return [
        Change(
            source_id=source_id,
            item_external_id=card.id,
            external_id=action.id if len(found) == 1 else f"{action.id}:{index}",
            field=name,
            from_value=from_value,
            to_value=to_value,
            from_display=from_display,
            to_display=to_display,
            author=author,
            changed_at=action.date,
        )
        for index, (name, from_value, to_value, from_display, to_display) in enumerate(found)
    ]


def map_action_activity(action: TrelloAction, *, source_id: int) -> Activity | None:
    """The activity a card action shows, or None (not a sign of work, or recorded as a change).

    A comment is one activity, keyed by its commentCard action's id (the comment's identity): an
    updateComment moves its `updated_at`, with its creation read from that id. The text of a
    comment is never read.
    """
    card = action.data.card
    kind = ACTIVITY_KINDS.get(action.type)
    if card is None or kind is None:
        return None
    if action.type == "updateCard" and (
        action.changed_fields <= _REORDER_ONLY or map_action_changes(action, source_id=source_id)
    ):
        return None
    external_id, created_at = action.id, action.date
    if action.type == "updateComment":
        comment = action.data.action
        if comment is None or not is_trello_id(comment.id):
            return None
        external_id, created_at = comment.id, min(created_at_from_id(comment.id), action.date)
    return Activity(
        source_id=source_id,
        item_external_id=card.id,
        external_id=external_id,
        kind=kind,
        author=_author(action),
        created_at=created_at,
        updated_at=action.date,
    )


def deleted_comment_id(action: TrelloAction) -> str | None:
    """The id of the comment a deleteComment action removes; None for any other action."""
    if action.type != DELETE_COMMENT or action.data.action is None:
        return None
    return action.data.action.id


def _dates(moment: datetime | None) -> tuple[str | None, str | None]:
    """(ISO date, ISO instant): the value is the calendar day the rules compare, the display the
    instant Trello stored."""
    if moment is None:
        return None, None
    day = _day(moment)
    return (day.isoformat() if day else None), moment.isoformat()


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _author(action: TrelloAction) -> str | None:
    member = action.member_creator
    if member is None:
        return action.id_member_creator
    return member.full_name or member.username or member.id


def _day(moment: datetime | None) -> date | None:
    # Trello stores due and start as UTC instants; the promise is that instant's UTC day.
    return moment.date() if moment is not None else None


def _assignee(card: TrelloCard, members: Mapping[str, TrelloMember]) -> Person | None:
    """Trello has no single assignee: the first member on the card stands for it."""
    if not card.id_members:
        return None
    member_id = card.id_members[0]
    member = members.get(member_id)
    name = (member.full_name or member.username) if member is not None else None
    return Person(external_id=member_id, display_name=name or member_id)


def _checklist_progress(card: TrelloCard) -> dict[str, int]:
    if card.checklists:
        items = [item for checklist in card.checklists for item in checklist.check_items]
        return {"checked": sum(item.state == "complete" for item in items), "total": len(items)}
    return {"checked": card.badges.check_items_checked, "total": card.badges.check_items}


def _custom_values(card: TrelloCard, fields: Mapping[str, TrelloCustomField]) -> dict[str, tuple[str, Any]]:
    """Custom field values by field name: (type, value), numbers and checkboxes decoded from
    Trello's strings and list options resolved to their text."""
    values: dict[str, tuple[str, Any]] = {}
    for item in card.custom_field_items:
        definition = fields.get(item.id_custom_field)
        if definition is None:
            continue
        value: Any = None
        if item.id_value is not None:
            value = definition.option_text(item.id_value)
        elif item.value is not None:
            if item.value.number is not None:
                value = _to_float(item.value.number)
            elif item.value.checked is not None:
                value = item.value.checked == "true"
            else:
                value = item.value.date or item.value.text
        if value is not None:
            values[definition.name] = (definition.type, value)
    return values


def _to_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _priority(custom: Mapping[str, tuple[str, Any]]) -> Priority:
    for name, (_, value) in custom.items():
        if name.strip().casefold() == "priority" and isinstance(value, str):
            return priority_from_name(value)
    return Priority.NONE


def _number_named(custom: Mapping[str, tuple[str, Any]], word: str) -> float | None:
    for name, (kind, value) in custom.items():
        if kind == "number" and word in name.casefold() and isinstance(value, float):
            return value
    return None


def _number_field_id(fields: Sequence[TrelloCustomField], wanted: str | None) -> str | None:
    """The id of the board's number field with this id or name (names compared case-insensitively)."""
    if wanted is None:
        return None
    folded = wanted.strip().casefold()
    for custom in fields:
        if custom.type == "number" and (custom.id == wanted or custom.name.strip().casefold() == folded):
            return custom.id
    return None


def _hours_in(card: TrelloCard, field_id: str | None) -> int | None:
    """Seconds of the hours a card holds in a number field; None when empty, not a number or negative."""
    if field_id is None:
        return None
    for item in card.custom_field_items:
        if item.id_custom_field == field_id and item.value is not None and item.value.number is not None:
            hours = _to_float(item.value.number)
            if hours is None or not math.isfinite(hours) or hours < 0:
                return None
            return round(hours * _HOUR_S)
    return None


def _estimate_seconds(custom: Mapping[str, tuple[str, Any]]) -> int | None:
    """A number field named like "Estimate (h)" or "Estimated hours", in hours."""
    for name, (kind, value) in custom.items():
        folded = name.casefold()
        if kind != "number" or not isinstance(value, float) or "estimat" not in folded:
            continue
        if "(h)" in folded or "hour" in folded:
            return int(value * _HOUR_S)
    return None
