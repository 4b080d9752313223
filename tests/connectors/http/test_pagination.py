from __future__ import annotations

import pytest

from connectors.http import PaginationLoopError, paginate_by_offset, paginate_by_token


def test_paginate_by_token_follows_tokens_until_none() -> None:
    pages = {None: ("a", "t1"), "t1": ("b", "t2"), "t2": ("c", None)}

    result = list(paginate_by_token(lambda token: pages[token], next_token=lambda p: p[1], endpoint="GET /x"))

    assert [page[0] for page in result] == ["a", "b", "c"]


def test_paginate_by_token_repeated_token_raises() -> None:
    pages = {None: ("a", "t1"), "t1": ("b", "t2"), "t2": ("c", "t1")}

    with pytest.raises(PaginationLoopError, match="repeated"):
        list(paginate_by_token(lambda token: pages[token], next_token=lambda p: p[1], endpoint="GET /x"))


def test_paginate_by_token_fetches_lazily() -> None:
    fetched: list[str | None] = []

    def fetch(token: str | None) -> str:
        fetched.append(token)
        return f"after-{token}"

    pages = paginate_by_token(fetch, next_token=lambda page: page, endpoint="GET /x")
    next(pages)

    assert fetched == [None]


def test_paginate_by_offset_advances_by_items_returned() -> None:
    data = list(range(7))
    starts: list[int] = []

    def fetch(start: int) -> tuple[int, list[int]]:
        starts.append(start)
        return start, data[start : start + 3]

    pages = list(
        paginate_by_offset(
            fetch,
            item_count=lambda page: len(page[1]),
            is_last=lambda page: page[0] + len(page[1]) >= len(data),
            reported_start=lambda page: page[0],
            endpoint="GET /x",
        )
    )

    assert starts == [0, 3, 6]
    assert [item for page in pages for item in page[1]] == data


def test_paginate_by_offset_empty_page_stops() -> None:
    pages = list(
        paginate_by_offset(
            lambda start: (start, []),
            item_count=lambda page: len(page[1]),
            is_last=lambda page: False,
            reported_start=lambda page: page[0],
            endpoint="GET /x",
        )
    )

    assert len(pages) == 1


def test_paginate_by_offset_server_ignoring_start_raises() -> None:
    with pytest.raises(PaginationLoopError, match="asked for 2, got 0"):
        list(
            paginate_by_offset(
                lambda start: (0, ["a", "b"]),
                item_count=lambda page: len(page[1]),
                is_last=lambda page: False,
                reported_start=lambda page: page[0],
                endpoint="GET /x",
            )
        )
