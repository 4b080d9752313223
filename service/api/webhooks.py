"""Incoming webhooks: verify, store in the inbox, acknowledge; a job does the rest.

Async on purpose: intake is a hot path, and its one write is short (docs/ARCHITECTURE.md, hot
paths). Each provider family has its route (Jira's here, Trello's in `webhooks_trello`);
`accept_delivery` serves them all, asking the source's provider (`service.providers`) how its
deliveries are signed and identified.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from service.api.direct_route import DirectRoute
from service.api.routers.context import ObjectId, delivery_trigger_of, webhook_intake_of
from service.app_state import settings_of
from service.errors import InvalidInputError, NotFoundError, PayloadTooLargeError, UnauthorizedError
from service.logging import get_logger
from service.metrics import record_webhook_delivery
from service.providers import Provider, ProviderFamily, provider_for
from service.providers.base import SIGNATURE_VALID, route_url
from service.providers.jira import JIRA_WEBHOOK_PATH
from service.webhooks.intake import (
    MAX_DELIVERY_ID_CHARS,
    DeliveryOutcome,
    DeliveryReceipt,
    SourceSecret,
    WebhookIntake,
)

log = get_logger(__name__)
router = APIRouter(tags=["webhooks"], route_class=DirectRoute)

MAX_WEBHOOK_BODY_BYTES = 1 << 20


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
    JIRA_WEBHOOK_PATH,
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
    return await accept_delivery(request, source_id, family=ProviderFamily.JIRA)


def source_at_route(
    intake: WebhookIntake, source_id: int, family: ProviderFamily
) -> tuple[SourceSecret, Provider]:
    """The source and its provider, if deliveries for it arrive at `family`'s route; else 404."""
    source = intake.source_secret(source_id)
    provider = provider_for(source.kind)
    if provider.family is not family:
        raise NotFoundError(f"no {family.label} source {source_id}", details={"source_id": source_id})
    return source, provider


async def accept_delivery(request: Request, source_id: int, *, family: ProviderFamily) -> Response:
    """Verify, store and acknowledge one delivery at `family`'s route; the provider says how its
    deliveries are signed and identified."""
    intake = webhook_intake_of(request)
    trigger = delivery_trigger_of(request)
    body = await read_limited_body(request)
    source, provider = source_at_route(intake, source_id, family)
    verifier = provider.webhooks
    if source.secret is None:
        raise UnauthorizedError(verifier.unverifiable, details={"source_id": source_id})
    # Trello signs over the callback URL as registered: the public URL, else the URL requested
    # (which only matches when no proxy rewrites scheme, host or path). Worked out only for a
    # provider that signs it, off the hot path of the others.
    callback_url = ""
    if verifier.signs_callback_url:
        settings = settings_of(request)
        callback_url = (
            route_url(settings.public_url, verifier.path, source_id)
            if settings.public_url
            else str(request.url)
        )
    verdict = verifier.check(
        body=body, headers=request.headers, callback_url=callback_url, secret=source.secret
    )
    if verdict != SIGNATURE_VALID:
        log.info("webhook.delivery.rejected", source_id=source_id, reason=verdict)
        record_webhook_delivery(provider=family.value, outcome="rejected")
        raise UnauthorizedError("webhook signature verification failed", details={"reason": verdict})
    delivery_id, event_type = verifier.identify(
        body=body,
        headers=request.headers,
        payload=parse_json_object(body),
        max_id_chars=MAX_DELIVERY_ID_CHARS,
    )
    receipt = await intake.store(
        source_id=source_id,
        delivery_id=delivery_id,
        event_type=event_type,
        body=body,
        received_at=datetime.now(UTC),
    )
    record_webhook_delivery(provider=family.value, outcome=receipt.outcome.value)
    if receipt.outcome is DeliveryOutcome.DUPLICATE:
        return ack_response(receipt, status_code=200)
    assert receipt.inbox_id is not None
    trigger.submit(receipt.inbox_id)
    return ack_response(receipt, status_code=202)
