"""Shared plumbing of the Trello client: credentials on the wire, pacing, parsing, `before` paging."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

import httpx
from pydantic import JsonValue, TypeAdapter

from connectors.http import (
    DEFAULT_TIMEOUT,
    CallAccounting,
    HttpSession,
    PaginationLoopError,
    Params,
    RetryPolicy,
    build_http_client,
    parse_body,
)
from connectors.trello.config import TrelloAuth, TrelloCredentials
from connectors.trello.ids import is_trello_id
from connectors.trello.ratelimit import TrelloBoundLimiter, TrelloRateLimiter

T = TypeVar("T")
ItemT = TypeVar("ItemT")

TRELLO_API_BASE = "https://api.trello.com"
MAX_PAGE_SIZE = 1000


class TrelloClientBase:
    def __init__(
        self,
        credentials: TrelloCredentials,
        *,
        base_url: str = TRELLO_API_BASE,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        limiter: TrelloRateLimiter | None = None,
        accounting: CallAccounting | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ValueError("pass either http_client or transport, not both")
        self.credentials = credentials
        self.rate_limiter = limiter or TrelloRateLimiter()
        self._pacing: TrelloBoundLimiter = self.rate_limiter.bind(credentials)
        self._owns_client = http_client is None
        client = http_client or build_http_client(transport=transport, timeout=timeout)
        self.session = HttpSession(
            base_url=base_url,
            client=client,
            auth=TrelloAuth(credentials, on_response=self._pacing.observe_response),
            retry=retry,
            limiter=self._pacing,
            accounting=accounting,
            timeout=timeout,
            secrets=credentials.secrets,
        )

    @property
    def accounting(self) -> CallAccounting:
        return self.session.accounting

    def close(self) -> None:
        if self._owns_client:
            self.session.close()

    def _call(
        self,
        adapter: TypeAdapter[T],
        method: str,
        route: str,
        *,
        path: Mapping[str, str | int] | None = None,
        params: Params | None = None,
        json: JsonValue = None,
        idempotent: bool | None = None,
    ) -> T:
        response = self.session.request(
            method, route, path=path, params=params, json=json, idempotent=idempotent
        )
        return parse_body(adapter, response, endpoint=f"{method.upper()} {route}")

    def _redact(self, text: str) -> str:
        for secret in self.credentials.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def check_page_size(page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")


def paginate_before(
    fetch: Callable[[str | None], Sequence[ItemT]],
    *,
    item_id: Callable[[ItemT], str],
    page_size: int,
    endpoint: str,
    before: str | None = None,
    reached_end: Callable[[Sequence[ItemT]], bool] = lambda _page: False,
) -> Iterator[list[ItemT]]:
    """Page newest-first results backwards with `before=<smallest id of the previous page>`.

    Items are unordered within a page, so the bound is the minimum id, not the last item
    (github.com/singer-io/tap-trello `streams/cards.py`, citing Trello's paging guide). Ids of equal
    length compare in creation order. A short page, or `reached_end`, ends the walk; a bound that
    does not move back raises, since following it would replay the same page forever.
    """
    seen: set[str] = set()
    while True:
        page = list(fetch(before))
        if not page:
            return
        yield page
        # More than asked for means the server ignored `limit` and sent everything.
        if len(page) != page_size or reached_end(page):
            return
        oldest = min(item_id(item).lower() for item in page)
        if oldest in seen or (before is not None and is_trello_id(before) and oldest >= before.lower()):
            raise PaginationLoopError("`before` bound repeated", endpoint=endpoint)
        seen.add(oldest)
        before = oldest
