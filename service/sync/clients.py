"""Provider clients built from a stored source and its decrypted credentials."""

from __future__ import annotations

import httpx

from connectors.http import DEFAULT_TIMEOUT, CallAccounting, RetryPolicy
from connectors.jira import JiraClient, JiraSite
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
) -> JiraClient:
    try:
        site = jira_site_for(source, credentials)
    except KeyError as exc:
        raise ConfigurationError(
            f"source {source.id} lacks the credential {exc.args[0]!r}", details={"source_id": source.id}
        ) from exc
    return JiraClient(site, accounting=accounting, transport=transport, retry=retry, timeout=timeout)
