"""Lazy paginators: each page is fetched only when the consumer asks for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from connectors.http.errors import PaginationLoopError

P = TypeVar("P")


def paginate_by_token(
    fetch: Callable[[str | None], P],
    *,
    next_token: Callable[[P], str | None],
    endpoint: str,
) -> Iterator[P]:
    """Follow opaque continuation tokens until none is returned; a token seen before raises."""
    seen: set[str] = set()
    token: str | None = None
    while True:
        page = fetch(token)
        yield page
        token = next_token(page)
        if token is None:
            return
        if token in seen:
            raise PaginationLoopError("pagination token repeated", endpoint=endpoint)
        seen.add(token)


def paginate_by_offset(
    fetch: Callable[[int], P],
    *,
    item_count: Callable[[P], int],
    is_last: Callable[[P], bool],
    reported_start: Callable[[P], int | None],
    endpoint: str,
    start_at: int = 0,
) -> Iterator[P]:
    """Advance `startAt` by the items actually returned (servers may cap `maxResults` lower).

    A page that reports a different start than requested means the server ignored the offset;
    following it would replay the same items forever, so it raises.
    """
    start = start_at
    while True:
        page = fetch(start)
        reported = reported_start(page)
        if reported is not None and reported != start:
            raise PaginationLoopError(
                f"page offset repeated: asked for {start}, got {reported}", endpoint=endpoint
            )
        yield page
        count = item_count(page)
        if count == 0 or is_last(page):
            return
        start += count
