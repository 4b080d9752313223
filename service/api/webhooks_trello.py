"""Incoming Trello webhooks: answer Trello's HEAD probe; verify, store in the inbox, acknowledge.

Trello signs `raw body + callbackURL` with the application secret (HMAC-SHA1, base64, header
`X-Trello-Webhook`), over the callback URL exactly as registered. That URL is the service's public
URL (`PMBRIDGE_PUBLIC_URL`) plus this route's path; without a public URL the URL the request arrived
at is used, which only matches when no proxy rewrites scheme, host or path. Deliveries have no
delivery id of their own: the action id identifies one, so a retry or a duplicate is stored once.
Async like the Jira intake: a hot path with one short write (docs/ARCHITECTURE.md, hot paths); both
routes verify and store through `webhooks.accept_delivery`, the signature and the action id being
the Trello provider's facts (`service.providers.trello`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.api.direct_route import DirectRoute
from service.api.routers.context import ObjectId, webhook_intake_of
from service.api.webhooks import WebhookAck, accept_delivery, source_at_route
from service.providers import ProviderFamily
from service.providers.trello import TRELLO_WEBHOOK_PATH

router = APIRouter(tags=["webhooks"], route_class=DirectRoute)


@router.head(
    TRELLO_WEBHOOK_PATH,
    status_code=200,
    response_class=Response,
    summary="Answer Trello's check of a webhook callback",
)
async def check_trello_callback(source_id: ObjectId, request: Request) -> Response:
    """Trello sends `HEAD` to a callback before creating a webhook and creates none unless it gets
    200; an unknown source answers 404 so a mistyped callback is never registered."""
    source_at_route(webhook_intake_of(request), source_id, ProviderFamily.TRELLO)
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
    return await accept_delivery(request, source_id, family=ProviderFamily.TRELLO)
