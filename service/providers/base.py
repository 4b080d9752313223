"""What every provider offers, whatever its kind: the `Provider` protocol and its parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import httpx

from connectors.http import RetryPolicy
from service.domain.enums import SourceKind
from service.domain.work import Source
from service.netcheck import ALLOW_PRIVATE_SETTING, GuardedTransport, process_allows_private


class ProviderFamily(StrEnum):
    """The provider behind a source kind; its value names the webhook route and labels metrics."""

    JIRA = "jira"
    TRELLO = "trello"

    @property
    def label(self) -> str:
        """The provider's name in messages ("Jira", "Trello")."""
        return _LABELS[self]


_LABELS = {ProviderFamily.JIRA: "Jira", ProviderFamily.TRELLO: "Trello"}


def outbound_transport(source: Source, transport: httpx.BaseTransport | None = None) -> httpx.BaseTransport:
    """The transport a source's client sends through: the one given (tests, the demo's in-process
    sandbox), else the outbound policy's, open to private addresses and plain http only when the
    source was added with the opt-in or this process runs with it."""
    if transport is not None:
        return transport
    allowed = source.settings.get(ALLOW_PRIVATE_SETTING) is True or process_allows_private()
    return GuardedTransport(allow_private=allowed)


# What `DeliveryVerifier.check` answers for a valid signature (every connector's verdict value).
SIGNATURE_VALID = "valid"


def route_url(public_url: str, path: str, source_id: int) -> str:
    """The public URL of a source's intake route (`path` has a `{source_id}` placeholder)."""
    return public_url.rstrip("/") + path.format(source_id=source_id)


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What a successful connection test saw: the server's own base URL, the account, and the
    sentence the admin API answers with."""

    server_url: str
    account: str | None
    detail: str


class DeliveryVerifier(Protocol):
    """How a provider's webhook deliveries are verified and identified at intake."""

    @property
    def path(self) -> str:
        """The intake route, with a `{source_id}` placeholder."""

    @property
    def unverifiable(self) -> str:
        """The refusal when the source has no secret to verify deliveries with."""

    @property
    def signs_callback_url(self) -> bool:
        """Whether the signature covers the callback URL (worked out per delivery only then)."""

    def check(self, *, body: bytes, headers: Mapping[str, str], callback_url: str, secret: str) -> str:
        """The verdict on the delivery's signature: `SIGNATURE_VALID`, or why it is not."""

    def identify(
        self, *, body: bytes, headers: Mapping[str, str], payload: dict[str, object], max_id_chars: int
    ) -> tuple[str, str]:
        """The delivery's id (the inbox dedupe key) and event type; `InvalidInputError` without one."""

    def stored_body(self, *, body: bytes, payload: dict[str, object]) -> bytes:
        """The body as the inbox keeps it: without any comment's text, which pmbridge never stores
        (`payload` is the parsed body, and may be changed)."""


class WebhookRegistration(Protocol):
    """Registering webhooks from here, for providers that let an integration do so."""

    def callback_url(self, public_url: str, source_id: int) -> str:
        """The URL to register for a source, and to verify its deliveries against."""

    def register(
        self, source: Source, credentials: dict[str, str], *, callback_url: str, model_ids: list[str]
    ) -> dict[str, str]:
        """Register (or confirm) one webhook per watched model; what happened to each, by id."""


class Provider(Protocol):
    @property
    def kind(self) -> SourceKind: ...

    @property
    def family(self) -> ProviderFamily: ...

    @property
    def webhooks(self) -> DeliveryVerifier: ...

    @property
    def webhook_registration(self) -> WebhookRegistration | None:
        """None when webhooks are set up at the provider (Jira: by an administrator, with a secret)."""

    def test_connection(
        self, source: Source, credentials: dict[str, str], *, retry: RetryPolicy | None = None
    ) -> ConnectionInfo:
        """Call the provider with the credentials; raises `ConnectorError` or `ConfigurationError`."""
