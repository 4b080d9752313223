from __future__ import annotations

import pytest

from service.errors import InvalidInputError
from service.feed.cursor import FeedCursorCodec

CODEC = FeedCursorCodec(b"k" * 32)


def test_cursor_roundtrip_returns_the_event_id() -> None:
    cursor = CODEC.encode(client_id=3, event_id=123_456)

    assert CODEC.decode(client_id=3, cursor=cursor) == 123_456


def test_cursor_is_opaque() -> None:
    assert "123456" not in CODEC.encode(client_id=3, event_id=123_456)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "abc",
        "!!!!",
        "é",
        CODEC.encode(client_id=4, event_id=1),
        FeedCursorCodec(b"o" * 32).encode(client_id=3, event_id=1),
    ],
    ids=["empty", "short", "not-base64", "non-ascii", "other-client", "other-key"],
)
def test_cursor_not_issued_to_this_client_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInputError):
        CODEC.decode(client_id=3, cursor=cursor)
