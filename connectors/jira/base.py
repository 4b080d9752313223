"""Shared plumbing of the Jira client: the session, the API version and response parsing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

import httpx
from pydantic import JsonValue, TypeAdapter

from connectors.http import (
    DEFAULT_TIMEOUT,
    CallAccounting,
    HttpSession,
    Params,
    RateLimiter,
    RetryPolicy,
    UnsupportedOperationError,
    build_http_client,
    paginate_by_offset,
    parse_body,
)
from connectors.jira.config import JiraDeployment, JiraSite
from connectors.jira.models.common import JiraPagedValues

T = TypeVar("T")


class JiraClientBase:
    def __init__(
        self,
        site: JiraSite,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        accounting: CallAccounting | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ValueError("pass either http_client or transport, not both")
        self.site = site
        self._owns_client = http_client is None
        client = http_client or build_http_client(transport=transport, timeout=timeout)
        self.session = HttpSession(
            base_url=site.base_url,
            client=client,
            auth=site.auth,
            retry=retry,
            limiter=limiter,
            accounting=accounting,
            timeout=timeout,
            secrets=site.secrets,
        )

    @property
    def accounting(self) -> CallAccounting:
        return self.session.accounting

    @property
    def deployment(self) -> JiraDeployment:
        return self.site.deployment

    def close(self) -> None:
        if self._owns_client:
            self.session.close()

    def _api(self, path: str) -> str:
        return f"/rest/api/{self.site.api_version}{path}"

    def _require_cloud(self, operation: str) -> None:
        if not self.site.is_cloud:
            raise UnsupportedOperationError(f"{operation} is only available on Jira Cloud")

    def _call(
        self,
        adapter: TypeAdapter[T],
        method: str,
        route: str,
        *,
        path: Mapping[str, str | int] | None = None,
        params: Params | None = None,
        json: JsonValue = None,
        write_key: str | None = None,
        idempotent: bool | None = None,
    ) -> T:
        response = self.session.request(
            method, route, path=path, params=params, json=json, write_key=write_key, idempotent=idempotent
        )
        return parse_body(adapter, response, endpoint=f"{method.upper()} {route}")

    def _call_bytes(
        self,
        method: str,
        route: str,
        *,
        json: JsonValue = None,
        idempotent: bool | None = None,
    ) -> tuple[bytes, int]:
        """A 2xx body as the bytes sent, with its status, for hot paths that decode it themselves."""
        response = self.session.request(method, route, json=json, idempotent=idempotent)
        return response.content, response.status_code

    def _send(
        self,
        method: str,
        route: str,
        *,
        path: Mapping[str, str | int] | None = None,
        json: JsonValue = None,
        write_key: str | None = None,
    ) -> None:
        self.session.request(method, route, path=path, json=json, write_key=write_key)


def issue_write_key(issue: str) -> str:
    """Writes are paced per issue (Jira Cloud per-issue write limits)."""
    return f"jira-issue:{issue}"


def paged_values(
    fetch: Callable[[int], JiraPagedValues[T]], *, endpoint: str
) -> Iterator[JiraPagedValues[T]]:
    """Offset paging over the `{startAt, maxResults, total, isLast, values}` envelope."""
    return paginate_by_offset(
        fetch,
        item_count=lambda page: len(page.values),
        is_last=_values_is_last,
        reported_start=lambda page: page.start_at,
        endpoint=endpoint,
    )


def _values_is_last(page: JiraPagedValues[T]) -> bool:
    if page.is_last is not None:
        return page.is_last
    return page.total is not None and (page.start_at or 0) + len(page.values) >= page.total
