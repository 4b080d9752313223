"""Inbound Trello webhooks: signature verification, payload parsing, and comment text removal.

`X-Trello-Webhook` is base64(HMAC-SHA1(app secret, raw body + callback URL)), where the callback
URL is byte-identical to the one registered, query string and trailing slash included
(github.com/trello-archive/api-docs `webhooks.html`). The key is the application's OAuth secret,
neither the API key nor a token. Verify against the raw bytes, before any JSON parsing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from enum import StrEnum

from pydantic import JsonValue, ValidationError

from connectors.http import InvalidPayloadError
from connectors.trello.events import COMMENT_ACTION_TYPES, SUPPORTED_ACTION_TYPES, event_from_action
from connectors.trello.models.action import TrelloAction
from connectors.trello.models.webhook import TrelloEvent, TrelloEventContext, TrelloUnsupportedEvent

SIGNATURE_HEADER = "X-Trello-Webhook"
_SHA1_BYTES = 20
# Actions whose `data.text` is a comment's text (for other actions it names a label, say).
_COMMENT_TEXT_ACTIONS = COMMENT_ACTION_TYPES | {"copyCommentCard"}


class SignatureCheck(StrEnum):
    VALID = "valid"
    MISSING = "missing"
    MALFORMED = "malformed"
    MISMATCH = "mismatch"


def compute_signature(*, body: bytes, callback_url: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), body + callback_url.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def check_signature(*, body: bytes, header: str | None, callback_url: str, secret: str) -> SignatureCheck:
    """Verdict on an `X-Trello-Webhook` header; the digest comparison is constant-time."""
    if header is None or not header.strip():
        return SignatureCheck.MISSING
    try:
        received = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return SignatureCheck.MALFORMED
    if len(received) != _SHA1_BYTES:
        return SignatureCheck.MALFORMED
    expected = hmac.new(secret.encode(), body + callback_url.encode(), hashlib.sha1).digest()
    if hmac.compare_digest(received, expected):
        return SignatureCheck.VALID
    return SignatureCheck.MISMATCH


def verify_signature(*, body: bytes, header: str | None, callback_url: str, secret: str) -> bool:
    return check_signature(body=body, header=header, callback_url=callback_url, secret=secret) is (
        SignatureCheck.VALID
    )


def parse_webhook(body: bytes) -> TrelloEvent:
    """Parse a delivery `{"action", "model", "webhook"}`. Unknown action types become
    `TrelloUnsupportedEvent`; a supported one that does not match its shape, or a body that is not a
    JSON object with an action, raises `InvalidPayloadError`."""
    try:
        payload: JsonValue = json.loads(body)
    except ValueError as exc:
        raise InvalidPayloadError("webhook body is not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("action"), dict):
        raise InvalidPayloadError("webhook body is not a JSON object with an action")
    raw_action = payload["action"]
    context = _context(payload)
    action_type = raw_action.get("type") if isinstance(raw_action, dict) else None
    if action_type not in SUPPORTED_ACTION_TYPES:
        return _unsupported(raw_action, context)
    try:
        action = TrelloAction.model_validate(raw_action)
    except ValidationError as exc:
        raise InvalidPayloadError(
            f"webhook action {action_type!r} does not match its expected shape ({exc.error_count()} errors)"
        ) from exc
    return event_from_action(action, context=context)


def _context(payload: dict[str, JsonValue]) -> TrelloEventContext:
    """The watched model and webhook are metadata: a shape we do not expect does not sink the action."""
    try:
        return TrelloEventContext.model_validate(
            {"model": payload.get("model"), "webhook": payload.get("webhook")}
        )
    except ValidationError:
        return TrelloEventContext()


def _unsupported(raw_action: JsonValue, context: TrelloEventContext) -> TrelloUnsupportedEvent:
    fields = raw_action if isinstance(raw_action, dict) else {}
    action_type = fields.get("type")
    action_id = fields.get("id")
    try:
        return TrelloUnsupportedEvent.model_validate(
            {
                "type": action_type if isinstance(action_type, str) else None,
                "action_id": action_id if isinstance(action_id, str) else None,
                "date": fields.get("date"),
                "context": context,
            }
        )
    except ValidationError:
        return TrelloUnsupportedEvent(
            type=action_type if isinstance(action_type, str) else None,
            action_id=action_id if isinstance(action_id, str) else None,
            context=context,
        )


def remove_comment_text(payload: dict[str, object]) -> bool:
    """Drop a comment's text from a delivery body, in place: `data.text`, `data.textData`,
    `data.old.text`, `data.action.text` and the display's comment entity of a comment action (TACT
    recorded payloads). Returns whether anything was removed. What identifies the comment (its id,
    card, author, date) is kept."""
    action = payload.get("action")
    if not isinstance(action, dict) or action.get("type") not in _COMMENT_TEXT_ACTIONS:
        return False
    removed = False
    data = action.get("data")
    if isinstance(data, dict):
        for key in ("text", "textData"):
            removed |= data.pop(key, None) is not None
        for nested in ("old", "action"):
            part = data.get(nested)
            if isinstance(part, dict):
                removed |= part.pop("text", None) is not None
    display = action.get("display")
    entities = display.get("entities") if isinstance(display, dict) else None
    comment = entities.get("comment") if isinstance(entities, dict) else None
    if isinstance(comment, dict):
        removed |= comment.pop("text", None) is not None
    return removed
