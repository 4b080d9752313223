from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from connectors.http import InvalidPayloadError
from connectors.trello import (
    SignatureCheck,
    check_signature,
    compute_signature,
    event_from_action,
    parse_webhook,
    remove_comment_text,
    verify_signature,
)
from connectors.trello.models import TrelloAction, TrelloCardEvent, TrelloCommentEvent, TrelloUnsupportedEvent

SECRET = "app-oauth-secret-5e5e5e"
CALLBACK = "https://pmbridge.example/webhooks/trello/src-1?v=1"
BODY = '{"action":{"type":"commentCard","data":{"text":"déjà vu"}}}'.encode()
WebhookBody = Callable[[str], bytes]


def _action_body(action_type: str) -> bytes:
    action = {"id": "a1", "type": action_type, "date": "2024-01-17T13:41:34Z", "data": {"card": {"id": "c"}}}
    return json.dumps({"action": action}).encode()


def _independent_signature(body: bytes, url: str = CALLBACK, secret: str = SECRET) -> str:
    mac = hmac.new(secret.encode("utf-8"), body + url.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (_independent_signature(BODY), SignatureCheck.VALID),
        (f"  {_independent_signature(BODY)} ", SignatureCheck.VALID),
        (_independent_signature(BODY + b" "), SignatureCheck.MISMATCH),
        (_independent_signature(BODY, url=CALLBACK.replace("?v=1", "")), SignatureCheck.MISMATCH),
        (_independent_signature(BODY, url=CALLBACK + "/"), SignatureCheck.MISMATCH),
        (_independent_signature(BODY, secret="api-key-not-secret"), SignatureCheck.MISMATCH),
        (
            base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha1).digest()).decode(),
            SignatureCheck.MISMATCH,
        ),
        (None, SignatureCheck.MISSING),
        ("", SignatureCheck.MISSING),
        ("not base64!", SignatureCheck.MALFORMED),
        (base64.b64encode(b"short").decode(), SignatureCheck.MALFORMED),
        (
            hmac.new(SECRET.encode(), BODY + CALLBACK.encode(), hashlib.sha1).hexdigest(),
            SignatureCheck.MALFORMED,
        ),
        ("é" * 28, SignatureCheck.MALFORMED),
    ],
    ids=[
        "valid",
        "surrounding-space",
        "tampered-body",
        "callback-without-query",
        "callback-trailing-slash",
        "wrong-secret",
        "body-only",
        "missing",
        "empty",
        "not-base64",
        "wrong-length",
        "hex-instead-of-base64",
        "non-ascii",
    ],
)
def test_check_signature_verdicts(header: str | None, expected: SignatureCheck) -> None:
    assert check_signature(body=BODY, header=header, callback_url=CALLBACK, secret=SECRET) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [(_independent_signature(BODY), True), (_independent_signature(b"{}"), False), (None, False)],
    ids=["valid", "other-body", "missing"],
)
def test_verify_signature_true_only_for_valid(header: str | None, expected: bool) -> None:
    assert verify_signature(body=BODY, header=header, callback_url=CALLBACK, secret=SECRET) is expected


def test_compute_signature_matches_independent_computation() -> None:
    assert compute_signature(body=BODY, callback_url=CALLBACK, secret=SECRET) == _independent_signature(BODY)


def test_parse_card_created_yields_card_event_with_list_and_board(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("card_created"))

    assert isinstance(event, TrelloCardEvent)
    assert event.type == "createCard"
    assert (event.card.id, event.card.name, event.card.id_short) == (
        "65a7d0aa1f2e3d4c5b6a7980",
        "Launch landing page",
        42,
    )
    assert event.action.data.list is not None and event.action.data.list.name == "To do"
    assert event.board is not None and event.board.id == "60a1b2c3d4e5f60718293a4b"
    assert event.action.member_creator is not None and event.action.member_creator.username == "dana"
    assert event.action.changed_fields == frozenset()
    assert event.context.webhook is not None
    assert event.context.webhook.callback_url == CALLBACK


def test_parse_card_moved_list_exposes_list_change(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("card_moved_list"))

    assert isinstance(event, TrelloCardEvent)
    change = event.action.list_change()
    assert change is not None and change.before is not None and change.after is not None
    assert (change.before.id, change.before.name) == ("60a1b2c3d4e5f60718293a50", "To do")
    assert (change.after.id, change.after.name) == ("60a1b2c3d4e5f60718293a51", "Doing")
    assert event.action.changed_fields == frozenset({"idList"})
    assert event.action.due_change() is None


def test_parse_card_due_changed_exposes_old_and_new_due(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("card_due_changed"))

    assert isinstance(event, TrelloCardEvent)
    change = event.action.due_change()
    assert change is not None
    assert change.before == datetime(2024, 2, 1, 17, tzinfo=UTC)
    assert change.after == datetime(2024, 2, 15, 17, tzinfo=UTC)
    assert event.action.list_change() is None


def test_parse_card_archived_exposes_closed_change(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("card_archived"))

    assert isinstance(event, TrelloCardEvent)
    change = event.action.closed_change()
    assert change is not None and (change.before, change.after) == (False, True)


def test_parse_card_deleted_card_has_no_name(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("card_deleted"))

    assert isinstance(event, TrelloCardEvent)
    assert event.type == "deleteCard"
    assert (event.card.id, event.card.name, event.card.id_short) == ("65a7d0aa1f2e3d4c5b6a7980", None, 42)


def test_parse_comment_added_yields_comment_event(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("comment_added"))

    assert isinstance(event, TrelloCommentEvent)
    assert (event.type, event.comment_id, event.text) == (
        "commentCard",
        "65a7d90e0000000000000006",
        "Copy approved by the client",
    )
    assert event.card.id == "65a7d0aa1f2e3d4c5b6a7980"


def test_parse_card_moved_to_board_names_the_source_board(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("card_moved_to_board"))

    assert isinstance(event, TrelloCardEvent)
    assert event.type == "moveCardToBoard"
    assert event.action.data.board_source is not None
    assert event.action.data.board_source.id == "60a1b2c3d4e5f60718293b00"
    assert event.board is not None and event.board.id == "60a1b2c3d4e5f60718293a4b"


def test_parse_unknown_action_yields_unsupported_event(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("unknown_action"))

    assert isinstance(event, TrelloUnsupportedEvent)
    assert (event.type, event.action_id) == ("updateBoard", "65a7d90e0000000000000008")
    assert event.date == datetime(2024, 1, 22, 8, 30, tzinfo=UTC)
    assert event.context.model is not None and event.context.model.name == "Acme Website"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"model": {"id": "x"}}',
        b'{"action": {"id": "a1", "type": "createCard", "date": "2024-01-17T13:41:34.244Z", "data": {}}}',
        b'{"action": {"id": "a1", "type": "updateCard", "data": {"card": {"id": "c1"}}}}',
        _action_body("updateComment"),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "no-action",
        "card-type-without-card",
        "missing-date",
        "comment-edit-without-target",
    ],
)
def test_parse_malformed_delivery_raises_invalid_payload(body: bytes) -> None:
    with pytest.raises(InvalidPayloadError):
        parse_webhook(body)


def test_parse_comment_edit_points_at_the_original_comment() -> None:
    body = {
        "action": {
            "id": "65a7d90e0000000000000010",
            "type": "updateComment",
            "date": "2024-01-17T15:00:00.000Z",
            "data": {
                "action": {"id": "65a7d90e0000000000000006", "text": "Copy approved (v2)"},
                "old": {"text": "Copy approved by the client"},
                "card": {"id": "65a7d0aa1f2e3d4c5b6a7980"},
            },
        }
    }

    event = parse_webhook(json.dumps(body).encode())

    assert isinstance(event, TrelloCommentEvent)
    assert (event.comment_id, event.text) == ("65a7d90e0000000000000006", "Copy approved (v2)")
    assert event.action.changed_fields == frozenset({"text"})


def test_parse_unknown_action_with_odd_fields_still_unsupported() -> None:
    event = parse_webhook(b'{"action": {"type": 7, "date": "yesterday"}}')

    assert isinstance(event, TrelloUnsupportedEvent)
    assert (event.type, event.action_id, event.date) == (None, None, None)


def test_event_from_polled_action_classifies_like_a_delivery(webhook_body: WebhookBody) -> None:
    action = TrelloAction.model_validate(json.loads(webhook_body("card_due_changed"))["action"])

    event = event_from_action(action)

    assert isinstance(event, TrelloCardEvent)
    assert event.context.webhook is None
    assert event.action.due_change() is not None


def test_parse_comment_without_its_text_keeps_its_identity(webhook_body: WebhookBody) -> None:
    # pmbridge's inbox keeps no comment text: a stored comment delivery has none.
    payload = json.loads(webhook_body("comment_added"))
    del payload["action"]["data"]["text"]

    event = parse_webhook(json.dumps(payload).encode())

    assert isinstance(event, TrelloCommentEvent)
    assert (event.comment_id, event.text, event.card.id) == (
        "65a7d90e0000000000000006",
        None,
        "65a7d0aa1f2e3d4c5b6a7980",
    )


def test_remove_comment_text_drops_every_copy_of_the_text() -> None:
    payload: dict[str, object] = {
        "action": {
            "id": "65a7d90e0000000000000011",
            "type": "updateComment",
            "date": "2024-01-17T15:00:00.000Z",
            "data": {
                "text": "new words",
                "textData": {"emoji": {}},
                "old": {"text": "old words"},
                "action": {"id": "65a7d90e0000000000000006", "text": "new words"},
                "card": {"id": "65a7d0aa1f2e3d4c5b6a7980"},
            },
            "display": {"entities": {"comment": {"type": "comment", "text": "new words"}}},
        }
    }

    removed = remove_comment_text(payload)

    assert removed is True
    assert "words" not in json.dumps(payload)
    assert payload["action"]["data"]["action"] == {"id": "65a7d90e0000000000000006"}  # type: ignore[index]


def test_remove_comment_text_leaves_a_label_name_alone() -> None:
    payload: dict[str, object] = {"action": {"type": "addLabelToCard", "data": {"text": "Blocked"}}}

    assert remove_comment_text(payload) is False
    assert payload["action"]["data"]["text"] == "Blocked"  # type: ignore[index]
