"""Incoming Trello webhooks: answer Trello's HEAD probe; verify, store in the inbox, acknowledge.

Trello signs `raw body + callbackURL` with the application secret (HMAC-SHA1, base64, header
`X-Trello-Webhook`), over the callback URL exactly as registered. That URL is the service's public
URL (`PMBRIDGE_PUBLIC_URL`) plus this route's path; without a public URL the URL the request arrived
at is used, which only matches when no proxy rewrites scheme, host or path. Deliveries have no
delivery id of their own: the action id identifies one, so a retry or a duplicate is stored once.
Async like the Jira intake: a hot path with one short write (DESIGN §3).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from connectors.trello import SIGNATURE_HEADER, SignatureCheck, check_signature
from service.api.direct_route import DirectRoute
from service.api.routers.context import ObjectId, delivery_trigger_of, webhook_intake_of
from service.api.webhooks import WebhookAck, ack_response, parse_json_object, read_limited_body
from service.app_state import settings_of
from service.domain.enums import SourceKind
from service.errors import InvalidInputError, NotFoundError, UnauthorizedError
from service.logging import get_logger
from service.metrics import record_webhook_delivery
from service.webhooks.intake import MAX_DELIVERY_ID_CHARS, DeliveryOutcome, SourceSecret

log = get_logger(__name__)
router = APIRouter(tags=["webhooks"], route_class=DirectRoute)

TRELLO_WEBHOOK_PATH = "/webhooks/trello/{source_id}"
_MAX_EVENT_TYPE_CHARS = 100


def trello_callback_url(public_url: str, source_id: int) -> str:
    """The callback URL to register for a source, and to verify its deliveries against."""
    return public_url.rstrip("/") + TRELLO_WEBHOOK_PATH.format(source_id=source_id)


def _trello_source(request: Request, source_id: int) -> SourceSecret:
    intake = webhook_intake_of(request)
    source = intake.source_secret(source_id)
    if source.kind is not SourceKind.TRELLO:
        raise NotFoundError(f"no Trello source {source_id}", details={"source_id": source_id})
    return source


@router.head(
    TRELLO_WEBHOOK_PATH,
    status_code=200,
    response_class=Response,
    summary="Answer Trello's check of a webhook callback",
)
async def check_trello_callback(source_id: ObjectId, request: Request) -> Response:
    """Trello sends `HEAD` to a callback before creating a webhook and creates none unless it gets
    200; an unknown source answers 404 so a mistyped callback is never registered."""
    _trello_source(request, source_id)
    return Response(status_code=200)


@router.post(
    TRELLO_WEBHOOK_PATH,
    status_code=202,
    response_model=WebhookAck,
    responses={200: {"model": WebhookAck, "description": "A delivery already stored."}},
    summary="Receive a Trello webhook delivery",
)
async def receive_trello_webhook(source_id: ObjectId, request: Request) -> Response:
    """Verifies `X-Trello-Webhook` (401 and nothing stored when it fails), refuses bodies over 1 MiB
    (413) and malformed JSON or a body without an action id (400), stores the delivery keyed by the
    action id and answers 202; the same action again answers 200 and changes nothing."""
    intake = webhook_intake_of(request)
    trigger = delivery_trigger_of(request)
    settings = settings_of(request)
    body = await read_limited_body(request)
    source = _trello_source(request, source_id)
    if source.secret is None:
        raise UnauthorizedError(
            "this source has no app secret: set one so deliveries can be verified",
            details={"source_id": source_id},
        )
    callback_url = (
        trello_callback_url(settings.public_url, source_id) if settings.public_url else str(request.url)
    )
    header = request.headers.get(SIGNATURE_HEADER)
    verdict = check_signature(body=body, header=header, callback_url=callback_url, secret=source.secret)
    if verdict is not SignatureCheck.VALID:
        log.info("webhook.delivery.rejected", source_id=source_id, reason=verdict.value)
        record_webhook_delivery(provider="trello", outcome="rejected")
        raise UnauthorizedError("webhook signature verification failed", details={"reason": verdict.value})
    action_id, action_type = _action_identity(parse_json_object(body))
    receipt = await intake.store(
        source_id=source_id,
        delivery_id=action_id,
        event_type=action_type[:_MAX_EVENT_TYPE_CHARS],
        body=body,
        received_at=datetime.now(UTC),
    )
    record_webhook_delivery(provider="trello", outcome=receipt.outcome.value)
    if receipt.outcome is DeliveryOutcome.DUPLICATE:
        return ack_response(receipt, status_code=200)
    assert receipt.inbox_id is not None
    trigger.submit(receipt.inbox_id)
    return ack_response(receipt, status_code=202)


def _action_identity(payload: dict[str, object]) -> tuple[str, str]:
    action = payload.get("action")
    if not isinstance(action, dict):
        raise InvalidInputError("the body has no action object")
    action_id, action_type = action.get("id"), action.get("type")
    if not isinstance(action_id, str) or not action_id or len(action_id) > MAX_DELIVERY_ID_CHARS:
        raise InvalidInputError("the action has no id")
    return action_id, action_type if isinstance(action_type, str) else "unknown"
