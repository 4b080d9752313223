"""Inbound Jira webhooks: signature verification, payload parsing, and comment text removal.

Signature (admin webhooks with a secret, Cloud and Data Center): `X-Hub-Signature: <method>=<hex>`,
the HMAC of the raw request body keyed by the secret, in WebSub form — split on the first `=` and
honour the method (hookdeck.com/webhooks/platforms/how-to-secure-and-verify-jira-webhooks-with-hookdeck;
confluence.atlassian.com/adminjiraserver/managing-webhooks-938846912.html).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from enum import StrEnum
from typing import get_args

from pydantic import JsonValue, ValidationError

from connectors.http import InvalidPayloadError
from connectors.jira.models.webhook import (
    CommentEventName,
    IssueEventName,
    JiraCommentEvent,
    JiraIssueEvent,
    JiraUnsupportedEvent,
    JiraVersionEvent,
    JiraWebhookEvent,
    VersionEventName,
)

SIGNATURE_HEADER = "X-Hub-Signature"
# Same value across redeliveries of one event, so it is the inbox dedupe key; the retry header is
# absent on the first attempt (community.developer.atlassian.com/t/new-jira-cloud-webhook-retry-policy/30554).
IDENTIFIER_HEADER = "X-Atlassian-Webhook-Identifier"
RETRY_HEADER = "X-Atlassian-Webhook-Retry"
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGESTS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_EVENT_PARSERS: dict[str, Callable[[JsonValue], JiraWebhookEvent]] = {
    **dict.fromkeys(get_args(IssueEventName), JiraIssueEvent.model_validate),
    **dict.fromkeys(get_args(CommentEventName), JiraCommentEvent.model_validate),
    **dict.fromkeys(get_args(VersionEventName), JiraVersionEvent.model_validate),
}


class SignatureCheck(StrEnum):
    VALID = "valid"
    MISSING = "missing"
    MALFORMED = "malformed"
    UNSUPPORTED_METHOD = "unsupported_method"
    MISMATCH = "mismatch"


def check_signature(*, body: bytes, header: str | None, secret: str) -> SignatureCheck:
    """Verdict on an `X-Hub-Signature` header; the digest comparison is constant-time."""
    if header is None or not header.strip():
        return SignatureCheck.MISSING
    method, separator, signature = header.strip().partition("=")
    if not separator or not signature:
        return SignatureCheck.MALFORMED
    digest = _DIGESTS.get(method.strip().lower())
    if digest is None:
        return SignatureCheck.UNSUPPORTED_METHOD
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    if len(signature) != len(expected) or not _HEX.fullmatch(signature):
        return SignatureCheck.MALFORMED
    if hmac.compare_digest(signature.lower().encode("ascii"), expected.encode("ascii")):
        return SignatureCheck.VALID
    return SignatureCheck.MISMATCH


def verify_signature(*, body: bytes, header: str | None, secret: str) -> bool:
    return check_signature(body=body, header=header, secret=secret) is SignatureCheck.VALID


def parse_webhook(body: bytes) -> JiraWebhookEvent:
    """Parse a delivery body. Unknown events become `JiraUnsupportedEvent`; a known event whose body
    does not match its shape, or a body that is not a JSON object, raises `InvalidPayloadError`."""
    try:
        payload: JsonValue = json.loads(body)
    except ValueError as exc:
        raise InvalidPayloadError("webhook body is not JSON") from exc
    if not isinstance(payload, dict):
        raise InvalidPayloadError("webhook body is not a JSON object")
    name = payload.get("webhookEvent")
    parser = _EVENT_PARSERS.get(name) if isinstance(name, str) else None
    if parser is None:
        return _unsupported(name, payload.get("timestamp"))
    try:
        return parser(payload)
    except ValidationError as exc:
        raise InvalidPayloadError(
            f"webhook {name!r} does not match its expected shape ({exc.error_count()} errors)"
        ) from exc


def _unsupported(name: JsonValue, timestamp: JsonValue) -> JiraUnsupportedEvent:
    event_name = name if isinstance(name, str) else None
    try:
        return JiraUnsupportedEvent.model_validate({"webhookEvent": event_name, "timestamp": timestamp})
    except ValidationError:
        return JiraUnsupportedEvent(webhook_event=event_name)


def remove_comment_text(payload: dict[str, object]) -> bool:
    """Drop comments' text from a delivery body, in place: the `body` (and `renderedBody`) of a
    comment event's comment, and the comments a full issue payload embeds in `fields.comment`.
    Returns whether anything was removed. What identifies a comment (its id, issue, author and
    times) is kept."""
    removed = False
    comment = payload.get("comment")
    if isinstance(comment, dict):
        for key in ("body", "renderedBody"):
            removed |= comment.pop(key, None) is not None
    issue = payload.get("issue")
    fields = issue.get("fields") if isinstance(issue, dict) else None
    embedded = fields.get("comment") if isinstance(fields, dict) else None
    listed_comments = embedded.get("comments") if isinstance(embedded, dict) else None
    if isinstance(listed_comments, list):
        for listed in listed_comments:
            if isinstance(listed, dict):
                for key in ("body", "renderedBody"):
                    removed |= listed.pop(key, None) is not None
    return removed
