"""Provider clients built from a stored source and its decrypted credentials.

A leaf any layer may import: sync, webhook processing and push-back all talk to the same sites.
Rate limiters are shared per site within a process, since a site's budgets are per credential
and per issue, not per client object.
"""

from __future__ import annotations

import threading

import httpx

from connectors.http import DEFAULT_TIMEOUT, CallAccounting, RateLimiter, RetryPolicy
from connectors.jira import JiraClient, JiraSite
from connectors.trello import TrelloClient, TrelloCredentials, TrelloRateLimiter
from service.domain.enums import SourceKind
from service.domain.work import Source
from service.errors import ConfigurationError


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
        site, accounting=accounting, transport=transport, retry=retry, timeout=timeout, limiter=limiter
    )


_JIRA_LIMITERS: dict[str, RateLimiter] = {}
_JIRA_LIMITERS_LOCK = threading.Lock()


def shared_jira_limiter(base_url: str) -> RateLimiter:
    """One limiter per Jira site in this process: per-issue write windows hold across clients."""
    with _JIRA_LIMITERS_LOCK:
        return _JIRA_LIMITERS.setdefault(base_url.rstrip("/").lower(), RateLimiter())


# Trello's budgets belong to the API key at one service, shared by every client of it in this
# process; a limiter keeps a bucket per key and token fingerprint, so one per API host serves all.
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
        transport=transport,
        retry=retry,
        limiter=limiter or shared_trello_limiter(source.base_url),
        accounting=accounting,
        timeout=timeout,
    )
