"""Trello: clients built from a stored source, and the Trello provider.

Trello's budgets belong to the API key at one service, shared by every client of it in this
process; a limiter keeps a bucket per key and token fingerprint, so one per API host serves all.

Trello signs `raw body + callbackURL` with the application secret (HMAC-SHA1, base64, header
`X-Trello-Webhook`), over the callback URL exactly as registered: the service's public URL plus the
intake route's path. Deliveries have no delivery id of their own: the action id identifies one.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from connectors.http import DEFAULT_TIMEOUT, CallAccounting, ConnectorError, RetryPolicy
from connectors.trello import (
    SIGNATURE_HEADER,
    TrelloClient,
    TrelloCredentials,
    TrelloRateLimiter,
    check_signature,
)
from service.domain.enums import SourceKind
from service.domain.work import Source
from service.errors import ConfigurationError, InvalidInputError
from service.providers.base import ConnectionInfo, ProviderFamily, outbound_transport, route_url

TRELLO_WEBHOOK_PATH = "/webhooks/trello/{source_id}"
_MAX_EVENT_TYPE_CHARS = 100

_TRELLO_LIMITERS: dict[str, TrelloRateLimiter] = {}
_TRELLO_LIMITERS_LOCK = threading.Lock()


def shared_trello_limiter(base_url: str) -> TrelloRateLimiter:
    with _TRELLO_LIMITERS_LOCK:
        return _TRELLO_LIMITERS.setdefault(base_url.rstrip("/").lower(), TrelloRateLimiter())


def trello_credentials_for(source: Source, credentials: dict[str, str]) -> TrelloCredentials:
    """Credentials of a Trello source: `{"api_key", "token"}` (the app secret is the webhook secret)."""
    if source.kind is not SourceKind.TRELLO:
        raise ConfigurationError(f"source {source.id} is not a Trello source")
    try:
        return TrelloCredentials(api_key=credentials["api_key"], token=credentials["token"])
    except KeyError as exc:
        raise ConfigurationError(
            f"source {source.id} lacks the credential {exc.args[0]!r}", details={"source_id": source.id}
        ) from exc


def open_trello_client(
    source: Source,
    credentials: dict[str, str],
    *,
    accounting: CallAccounting | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    limiter: TrelloRateLimiter | None = None,
) -> TrelloClient:
    return TrelloClient(
        trello_credentials_for(source, credentials),
        base_url=source.base_url,
        transport=outbound_transport(source, transport),
        retry=retry,
        limiter=limiter or shared_trello_limiter(source.base_url),
        accounting=accounting,
        timeout=timeout,
    )


def trello_callback_url(public_url: str, source_id: int) -> str:
    """The callback URL to register for a source, and to verify its deliveries against."""
    return route_url(public_url, TRELLO_WEBHOOK_PATH, source_id)


@dataclass(frozen=True, slots=True)
class TrelloDeliveryVerifier:
    """`X-Trello-Webhook` over the body and the callback URL; deliveries are keyed by the action id,
    so a retry or a duplicate is stored once."""

    path: str = TRELLO_WEBHOOK_PATH
    unverifiable: str = "this source has no app secret: set one so deliveries can be verified"
    signs_callback_url: bool = True

    def check(self, *, body: bytes, headers: Mapping[str, str], callback_url: str, secret: str) -> str:
        header = headers.get(SIGNATURE_HEADER)
        return check_signature(body=body, header=header, callback_url=callback_url, secret=secret)

    def identify(
        self, *, body: bytes, headers: Mapping[str, str], payload: dict[str, object], max_id_chars: int
    ) -> tuple[str, str]:
        action = payload.get("action")
        if not isinstance(action, dict):
            raise InvalidInputError("the body has no action object")
        action_id, action_type = action.get("id"), action.get("type")
        if not isinstance(action_id, str) or not action_id or len(action_id) > max_id_chars:
            raise InvalidInputError("the action has no id")
        return action_id, (action_type if isinstance(action_type, str) else "unknown")[:_MAX_EVENT_TYPE_CHARS]


@dataclass(frozen=True, slots=True)
class TrelloWebhookRegistration:
    """One webhook per watched board, at the source's callback URL. Trello probes the callback with
    HEAD first, so the service must already answer at the public URL."""

    def callback_url(self, public_url: str, source_id: int) -> str:
        return trello_callback_url(public_url, source_id)

    def register(
        self, source: Source, credentials: dict[str, str], *, callback_url: str, model_ids: list[str]
    ) -> dict[str, str]:
        outcome: dict[str, str] = {}
        with open_trello_client(source, credentials) as client:
            for board_id in model_ids:
                outcome[board_id] = _ensure_webhook(client, callback_url, board_id, source.name)
        return outcome


def _ensure_webhook(client: TrelloClient, callback_url: str, board_id: str, name: str) -> str:
    try:
        webhook = client.ensure_webhook(
            callback_url=callback_url, id_model=board_id, description=f"pmbridge {name}"
        )
    except ConnectorError as exc:
        return f"failed: {exc}"
    return f"registered {webhook.id}"


@dataclass(frozen=True, slots=True)
class TrelloProvider:
    """A Trello workspace, reached through the API key and a member's token."""

    kind: SourceKind = SourceKind.TRELLO
    family: ProviderFamily = ProviderFamily.TRELLO
    webhooks: TrelloDeliveryVerifier = TrelloDeliveryVerifier()
    webhook_registration: TrelloWebhookRegistration = TrelloWebhookRegistration()

    def test_connection(
        self, source: Source, credentials: dict[str, str], *, retry: RetryPolicy | None = None
    ) -> ConnectionInfo:
        with open_trello_client(source, credentials, retry=retry) as trello:
            member = trello.get_member("me")
        return ConnectionInfo(
            server_url=source.base_url,
            account=member.username,
            detail=f"connected to Trello as {member.username}",
        )
