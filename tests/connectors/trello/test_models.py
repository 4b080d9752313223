from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.trello.models import TrelloAction, TrelloCard, TrelloWebhook


def _update(data: dict[str, Any]) -> TrelloAction:
    return TrelloAction.model_validate(
        {"id": "65a7d90e0000000000000002", "type": "updateCard", "date": "2024-01-17T13:45:00Z", "data": data}
    )


def test_action_due_set_from_unset_reports_none_before() -> None:
    action = _update({"card": {"id": "c1", "due": "2024-02-15T17:00:00.000Z"}, "old": {"due": None}})

    change = action.due_change()

    assert change is not None
    assert (change.before, change.after) == (None, datetime(2024, 2, 15, 17, tzinfo=UTC))


def test_action_due_removed_reports_none_after() -> None:
    action = _update({"card": {"id": "c1", "due": None}, "old": {"due": "2024-02-15T17:00:00.000Z"}})

    change = action.due_change()

    assert change is not None and change.after is None


def test_action_list_move_without_list_names_falls_back_to_ids() -> None:
    action = _update({"card": {"id": "c1", "idList": "l2"}, "old": {"idList": "l1"}})

    change = action.list_change()

    assert change is not None and change.before is not None and change.after is not None
    assert (change.before.id, change.before.name, change.after.id) == ("l1", None, "l2")


def test_action_start_and_due_complete_changes_are_reported() -> None:
    action = _update(
        {
            "card": {"id": "c1", "start": "2024-01-20T09:00:00Z", "dueComplete": True},
            "old": {"start": None, "dueComplete": False},
        }
    )

    start = action.start_change()
    complete = action.due_complete_change()

    assert start is not None and start.after == datetime(2024, 1, 20, 9, tzinfo=UTC)
    assert complete is not None and (complete.before, complete.after) == (False, True)
    assert action.changed_fields == frozenset({"start", "dueComplete"})
    assert action.closed_change() is None


def test_card_minimal_wire_shape_parses_with_defaults() -> None:
    card = TrelloCard.model_validate(
        {"id": "65a7d0aa1f2e3d4c5b6a7980", "idList": "l1", "idBoard": "b1", "extra": 1}
    )

    assert (card.name, card.closed, card.labels, card.due) == ("", False, [], None)
    assert card.last_activity == card.created_at


def test_webhook_reads_callback_url_alias_and_failure_streak() -> None:
    webhook = TrelloWebhook.model_validate(
        {
            "id": "w1",
            "idModel": "b1",
            "callbackURL": "https://x.example/hook",
            "active": True,
            "consecutiveFailures": 64,
            "firstConsecutiveFailDate": "2024-01-17T13:12:07.892Z",
        }
    )

    assert (webhook.callback_url, webhook.consecutive_failures) == ("https://x.example/hook", 64)
    assert webhook.first_consecutive_fail_date == datetime(2024, 1, 17, 13, 12, 7, 892000, tzinfo=UTC)
