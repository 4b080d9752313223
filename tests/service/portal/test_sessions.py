from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.portal.sessions import SessionCodec

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_session_codec_issued_cookie_reads_back() -> None:
    codec = SessionCodec(b"k" * 44)
    issued = codec.issue(token_id=42, expires_at=NOW + timedelta(hours=1))

    read = codec.read(issued.cookie, now=NOW)

    assert read is not None
    assert read.token_id == 42
    assert read.expires_at == NOW + timedelta(hours=1)


def test_session_codec_expired_cookie_is_none() -> None:
    codec = SessionCodec(b"k" * 44)
    issued = codec.issue(token_id=42, expires_at=NOW + timedelta(hours=1))

    assert codec.read(issued.cookie, now=NOW + timedelta(hours=1)) is None


def test_session_codec_cookie_of_another_key_is_none() -> None:
    issued = SessionCodec(b"a" * 44).issue(token_id=42, expires_at=NOW + timedelta(hours=1))

    assert SessionCodec(b"b" * 44).read(issued.cookie, now=NOW) is None


def test_session_codec_edited_token_id_is_none() -> None:
    codec = SessionCodec(b"k" * 44)
    mine = codec.issue(token_id=1, expires_at=NOW + timedelta(hours=1)).cookie
    theirs = codec.issue(token_id=2, expires_at=NOW + timedelta(hours=1)).cookie
    # 12 base64 characters are the first 9 bytes: the token id (8) and the expiry's first byte.
    spliced = theirs[:12] + mine[12:]
    assert spliced != mine

    assert codec.read(spliced, now=NOW) is None


def test_session_codec_garbage_cookie_is_none() -> None:
    codec = SessionCodec(b"k" * 44)

    assert codec.read("not base64 !!", now=NOW) is None
    assert codec.read("", now=NOW) is None
    assert codec.read("A" * 500, now=NOW) is None


def test_session_codec_csrf_token_differs_per_session() -> None:
    codec = SessionCodec(b"k" * 44)
    first = codec.issue(token_id=1, expires_at=NOW + timedelta(hours=1)).cookie
    second = codec.issue(token_id=1, expires_at=NOW + timedelta(hours=1)).cookie

    assert codec.csrf_token(first) != codec.csrf_token(second)
    assert codec.csrf_matches(first, codec.csrf_token(first))
    assert not codec.csrf_matches(first, codec.csrf_token(second))
    assert not codec.csrf_matches(first, None)
