"""Jira Cloud and Jira Data Center: clients built from a stored source, and the Jira provider.

Rate limiters are shared per site within a process, since a site's budgets are per credential
and per issue, not per client object. Both kinds share `JiraProvider`; the kind decides how the
site authenticates (`jira_site_for`).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from connectors.http import DEFAULT_TIMEOUT, CallAccounting, RateLimiter, RetryPolicy
from connectors.jira import JiraClient, JiraSite
from connectors.jira.webhooks import IDENTIFIER_HEADER, SIGNATURE_HEADER, check_signature
from service.domain.enums import SourceKind
from service.domain.work import Source
from service.errors import ConfigurationError, InvalidInputError
from service.providers.base import ConnectionInfo, ProviderFamily, outbound_transport

JIRA_WEBHOOK_PATH = "/webhooks/jira/{source_id}"
JIRA_DELIVERY_HEADER = IDENTIFIER_HEADER


def jira_site_for(source: Source, credentials: dict[str, str]) -> JiraSite:
    """Cloud: email + API token (Basic) or an OAuth access token with its cloud id; Data Center: a PAT."""
    if source.kind is SourceKind.JIRA_DATA_CENTER:
        return JiraSite.data_center(source.base_url, personal_access_token=credentials["token"])
    if source.kind is not SourceKind.JIRA_CLOUD:
        raise ConfigurationError(f"source {source.id} is not a Jira source")
    if "access_token" in credentials:
        return JiraSite.cloud_oauth(
            credentials["cloud_id"], access_token=credentials["access_token"], gateway=source.base_url
        )
    return JiraSite.cloud_basic(
        source.base_url, email=credentials["email"], api_token=credentials["api_token"]
    )


def open_jira_client(
    source: Source,
    credentials: dict[str, str],
    *,
    accounting: CallAccounting | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    limiter: RateLimiter | None = None,
) -> JiraClient:
    try:
        site = jira_site_for(source, credentials)
    except KeyError as exc:
        raise ConfigurationError(
            f"source {source.id} lacks the credential {exc.args[0]!r}", details={"source_id": source.id}
        ) from exc
    return JiraClient(
        site,
        accounting=accounting,
        transport=outbound_transport(source, transport),
        retry=retry,
        timeout=timeout,
        limiter=limiter,
    )


_JIRA_LIMITERS: dict[str, RateLimiter] = {}
_JIRA_LIMITERS_LOCK = threading.Lock()


def shared_jira_limiter(base_url: str) -> RateLimiter:
    """One limiter per Jira site in this process: per-issue write windows hold across clients."""
    with _JIRA_LIMITERS_LOCK:
        return _JIRA_LIMITERS.setdefault(base_url.rstrip("/").lower(), RateLimiter())


@dataclass(frozen=True, slots=True)
class JiraDeliveryVerifier:
    """`X-Hub-Signature` over the raw body; deliveries are keyed by `X-Atlassian-Webhook-Identifier`
    (the same across redeliveries of one event), else by the body's digest."""

    path: str = JIRA_WEBHOOK_PATH
    unverifiable: str = "this source has no webhook secret: set one so deliveries can be verified"
    signs_callback_url: bool = False

    def check(self, *, body: bytes, headers: Mapping[str, str], callback_url: str, secret: str) -> str:
        return check_signature(body=body, header=headers.get(SIGNATURE_HEADER), secret=secret)

    def identify(
        self, *, body: bytes, headers: Mapping[str, str], payload: dict[str, object], max_id_chars: int
    ) -> tuple[str, str]:
        event_type = payload.get("webhookEvent")
        delivery_id = headers.get(JIRA_DELIVERY_HEADER) or f"sha256:{hashlib.sha256(body).hexdigest()}"
        if len(delivery_id) > max_id_chars:
            raise InvalidInputError(
                f"{JIRA_DELIVERY_HEADER} is over {max_id_chars} characters",
                details={"header": JIRA_DELIVERY_HEADER, "limit": max_id_chars},
            )
        return delivery_id, event_type if isinstance(event_type, str) else "unknown"


@dataclass(frozen=True, slots=True)
class JiraProvider:
    """A Jira site of one kind. Webhooks are created by a Jira administrator with the source's
    secret, so none are registered from here."""

    kind: SourceKind
    family: ProviderFamily = ProviderFamily.JIRA
    webhooks: JiraDeliveryVerifier = JiraDeliveryVerifier()
    webhook_registration: None = None

    def test_connection(
        self, source: Source, credentials: dict[str, str], *, retry: RetryPolicy | None = None
    ) -> ConnectionInfo:
        with open_jira_client(source, credentials, retry=retry) as jira:
            info = jira.get_server_info()
            me = jira.get_myself()
        return ConnectionInfo(
            server_url=info.base_url,
            account=me.display_name,
            detail=f"connected to {info.base_url} as {me.display_name}",
        )
