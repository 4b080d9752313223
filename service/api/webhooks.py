"""Incoming webhooks: verify, store in the inbox, acknowledge; a job does the rest.

Async on purpose: intake is a hot path, and its one write is short (DESIGN §3).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from connectors.jira.webhooks import SIGNATURE_HEADER, SignatureCheck, check_signature
from service.api.direct_route import DirectRoute
from service.api.routers.context import ObjectId, delivery_trigger_of, webhook_intake_of
from service.domain.enums import SourceKind
from service.errors import InvalidInputError, NotFoundError, PayloadTooLargeError, UnauthorizedError
from service.logging import get_logger
from service.metrics import record_webhook_delivery
from service.webhooks.intake import MAX_DELIVERY_ID_CHARS, DeliveryOutcome, DeliveryReceipt

log = get_logger(__name__)
router = APIRouter(tags=["webhooks"], route_class=DirectRoute)

MAX_WEBHOOK_BODY_BYTES = 1 << 20
JIRA_DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
_JIRA_KINDS = frozenset({SourceKind.JIRA_CLOUD, SourceKind.JIRA_DATA_CENTER})


class WebhookAck(BaseModel):
    status: DeliveryOutcome
    inbox_id: int | None = None


async def read_limited_body(request: Request, *, limit: int = MAX_WEBHOOK_BODY_BYTES) -> bytes:
    """The raw body, refused with 413 past `limit` without reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body over {limit} bytes", details={"limit": limit})
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"body over {limit} bytes", details={"limit": limit})
        chunks.append(chunk)
    return b"".join(chunks)


def ack_response(receipt: DeliveryReceipt, *, status_code: int) -> Response:
    """A `WebhookAck` body, serialized directly: the intake route builds its own responses."""
    body = orjson.dumps({"status": receipt.outcome.value, "inbox_id": receipt.inbox_id})
    return Response(body, status_code=status_code, media_type="application/json")


def parse_json_object(body: bytes) -> dict[str, object]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError("the body is not valid JSON", details={"reason": str(exc)[:200]}) from exc
    if not isinstance(payload, dict):
        raise InvalidInputError("the body must be a JSON object")
    return payload


@router.post(
    "/webhooks/jira/{source_id}",
    status_code=202,
    response_model=WebhookAck,
    responses={200: {"model": WebhookAck, "description": "A delivery already stored."}},
    summary="Receive a Jira webhook delivery",
)
async def receive_jira_webhook(source_id: ObjectId, request: Request) -> Response:
    """Verifies `X-Hub-Signature` (401 and nothing stored when it fails), refuses bodies over 1 MiB
    (413), malformed JSON and an `X-Atlassian-Webhook-Identifier` over 200 characters (400), stores
    the delivery keyed by that identifier and answers 202; the same delivery again answers 200 and
    changes nothing. A source that no longer exists is a 404; 503 only when storage is unavailable."""
    intake = webhook_intake_of(request)
    trigger = delivery_trigger_of(request)
    body = await read_limited_body(request)
    source = intake.source_secret(source_id)
    if source.kind not in _JIRA_KINDS:
        raise NotFoundError(f"no Jira source {source_id}", details={"source_id": source_id})
    if source.secret is None:
        raise UnauthorizedError(
            "this source has no webhook secret: set one so deliveries can be verified",
            details={"source_id": source_id},
        )
    verdict = check_signature(body=body, header=request.headers.get(SIGNATURE_HEADER), secret=source.secret)
    if verdict is not SignatureCheck.VALID:
        log.info("webhook.delivery.rejected", source_id=source_id, reason=verdict.value)
        record_webhook_delivery(provider="jira", outcome="rejected")
        raise UnauthorizedError("webhook signature verification failed", details={"reason": verdict.value})
    payload = parse_json_object(body)
    event_type = payload.get("webhookEvent")
    delivery_id = request.headers.get(JIRA_DELIVERY_HEADER) or f"sha256:{hashlib.sha256(body).hexdigest()}"
    if len(delivery_id) > MAX_DELIVERY_ID_CHARS:
        raise InvalidInputError(
            f"{JIRA_DELIVERY_HEADER} is over {MAX_DELIVERY_ID_CHARS} characters",
            details={"header": JIRA_DELIVERY_HEADER, "limit": MAX_DELIVERY_ID_CHARS},
        )
    receipt = await intake.store(
        source_id=source_id,
        delivery_id=delivery_id,
        event_type=event_type if isinstance(event_type, str) else "unknown",
        body=body,
        received_at=datetime.now(UTC),
    )
    record_webhook_delivery(provider="jira", outcome=receipt.outcome.value)
    if receipt.outcome is DeliveryOutcome.DUPLICATE:
        return ack_response(receipt, status_code=200)
    assert receipt.inbox_id is not None
    trigger.submit(receipt.inbox_id)
    return ack_response(receipt, status_code=202)
