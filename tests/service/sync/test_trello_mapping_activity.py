"""Trello card actions as activity: which action types are signs of work, and of which kind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.trello.models import TrelloAction
from service.domain.enums import ActivityKind
from service.sync.trello import HISTORY_ACTION_TYPES
from service.sync.trello_mapping import ACTIVITY_KINDS, deleted_comment_id, map_action_activity

CARD = {"id": "65a7d0aa1f2e3d4c5b6a7980", "name": "Launch landing page", "idShort": 42}
BOARD = {"id": "60a1b2c3d4e5f60718293a4b", "name": "Acme Website"}
COMMENT_ID = "65a7d00000000000000000a1"  # created 2024-01-17 13:02:56 UTC
AT = datetime(2024, 1, 17, 14, 0, tzinfo=UTC)


def action(action_type: str, **data: Any) -> TrelloAction:
    return TrelloAction.model_validate(
        {
            "id": "65a7d90e0000000000000006",
            "type": action_type,
            "date": AT.isoformat(),
            "idMemberCreator": "5c0ffee00000000000000001",
            "memberCreator": {
                "id": "5c0ffee00000000000000001",
                "username": "dana",
                "fullName": "Dana Scully",
            },
            "data": {"card": CARD, "board": BOARD, **data},
        }
    )


@pytest.mark.parametrize(
    ("action_type", "data", "kind"),
    [
        ("commentCard", {"text": "Copy approved"}, ActivityKind.COMMENT),
        ("createCard", {"list": {"id": "l1", "name": "To Do"}}, ActivityKind.CREATED),
        ("copyCard", {"cardSource": {"id": "65a7d0aa1f2e3d4c5b6a7981"}}, ActivityKind.CREATED),
        ("convertToCardFromCheckItem", {}, ActivityKind.CREATED),
        ("emailCard", {}, ActivityKind.CREATED),
        ("addMemberToCard", {"idMember": "m1"}, ActivityKind.MEMBERS),
        ("removeMemberFromCard", {"idMember": "m1"}, ActivityKind.MEMBERS),
        ("addChecklistToCard", {"checklist": {"id": "k1", "name": "QA"}}, ActivityKind.CHECKLIST),
        ("removeChecklistFromCard", {"checklist": {"id": "k1", "name": "QA"}}, ActivityKind.CHECKLIST),
        ("createCheckItem", {"checkItem": {"id": "i1", "name": "Test"}}, ActivityKind.CHECKLIST),
        ("updateCheckItem", {"checkItem": {"id": "i1", "name": "Test"}}, ActivityKind.CHECKLIST),
        ("deleteCheckItem", {"checkItem": {"id": "i1", "name": "Test"}}, ActivityKind.CHECKLIST),
        (
            "updateCheckItemStateOnCard",
            {"checkItem": {"id": "i1", "state": "complete"}},
            ActivityKind.CHECKLIST,
        ),
        ("addAttachmentToCard", {"attachment": {"id": "a1"}}, ActivityKind.ATTACHMENT),
        ("deleteAttachmentFromCard", {"attachment": {"id": "a1"}}, ActivityKind.ATTACHMENT),
        ("updateCustomFieldItem", {"customField": {"id": "f1"}}, ActivityKind.EDITED),
        ("updateCard", {"old": {"desc": "before"}}, ActivityKind.EDITED),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_map_action_activity_sign_of_work_is_activity_of_its_kind(
    action_type: str, data: dict[str, Any], kind: ActivityKind
) -> None:
    activity = map_action_activity(action(action_type, **data), source_id=3)

    assert activity is not None
    assert (activity.kind, activity.item_external_id, activity.external_id, activity.author) == (
        kind,
        CARD["id"],
        "65a7d90e0000000000000006",
        "Dana Scully",
    )
    assert activity.created_at == activity.updated_at == AT


@pytest.mark.parametrize(
    ("action_type", "data"),
    [
        ("updateCard", {"old": {"idList": "l0"}, "listBefore": {"id": "l0"}, "listAfter": {"id": "l1"}}),
        ("updateCard", {"old": {"due": None}}),
        ("updateCard", {"old": {"closed": False}}),
        ("updateCard", {"old": {"pos": 16384}}),
        ("addLabelToCard", {"text": "Blocked"}),
        ("deleteCard", {}),
        ("moveCardFromBoard", {"boardTarget": {"id": "b2"}}),
        ("updateList", {}),
    ],
    ids=["move", "due", "archive", "reorder", "label", "delete", "leaves-board", "list-action"],
)
def test_map_action_activity_change_or_no_work_is_none(action_type: str, data: dict[str, Any]) -> None:
    assert map_action_activity(action(action_type, **data), source_id=3) is None


def test_map_action_activity_action_without_a_card_is_none() -> None:
    bare = TrelloAction.model_validate(
        {"id": "65a7d90e0000000000000006", "type": "commentCard", "date": AT.isoformat(), "data": {}}
    )

    assert map_action_activity(bare, source_id=3) is None


def test_map_action_activity_comment_edit_moves_the_comment_forward() -> None:
    edit = action("updateComment", action={"id": COMMENT_ID, "text": "new"}, old={"text": "old"})

    activity = map_action_activity(edit, source_id=3)

    assert activity is not None
    assert (activity.kind, activity.external_id) == (ActivityKind.COMMENT, COMMENT_ID)
    assert activity.created_at == datetime(2024, 1, 17, 13, 2, 56, tzinfo=UTC)
    assert activity.updated_at == AT


def test_map_action_activity_never_reads_a_comments_text() -> None:
    activity = map_action_activity(action("commentCard", text="the client's secret plans"), source_id=3)

    assert activity is not None
    assert "secret" not in repr(activity)


def test_deleted_comment_id_names_the_comment_a_delete_removes() -> None:
    assert deleted_comment_id(action("deleteComment", action={"id": COMMENT_ID})) == COMMENT_ID
    assert deleted_comment_id(action("commentCard", text="x")) is None


def test_history_action_types_cover_every_activity_and_comment_deletes() -> None:
    assert set(ACTIVITY_KINDS) | {"deleteComment"} <= set(HISTORY_ACTION_TYPES)
