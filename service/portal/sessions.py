"""Portal sessions without server state: a signed cookie naming the client token it was opened with.

The cookie carries the token id, an expiry and a random nonce, signed with HMAC-SHA256 under a key
of its own derived from the service secret. The token itself is looked up on every request, so a
revoked or expired token ends its portal sessions at once. The CSRF token of a session is an HMAC
of its cookie under another derived key: it changes with each sign-in and cannot be computed from
outside.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

_PAYLOAD = struct.Struct(">QQ8s")  # token id, expiry (unix seconds), nonce
_TAG_BYTES = 16


@dataclass(frozen=True, slots=True)
class PortalSession:
    token_id: int
    expires_at: datetime
    cookie: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


class SessionCodec:
    def __init__(self, secret: bytes) -> None:
        self._session_key = hashlib.sha256(b"pmbridge portal session\x00" + secret).digest()
        self._csrf_key = hashlib.sha256(b"pmbridge portal csrf\x00" + secret).digest()

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._session_key, payload, hashlib.sha256).digest()[:_TAG_BYTES]

    def issue(self, *, token_id: int, expires_at: datetime) -> PortalSession:
        payload = _PAYLOAD.pack(token_id, int(expires_at.timestamp()), secrets.token_bytes(8))
        cookie = _b64(payload + self._tag(payload))
        return PortalSession(token_id=token_id, expires_at=expires_at, cookie=cookie)

    def read(self, cookie: str | None, *, now: datetime) -> PortalSession | None:
        """The session in a cookie this portal signed and that has not expired; None otherwise."""
        if not cookie or len(cookie) > 128:
            return None
        raw = _unb64(cookie)
        if raw is None or len(raw) != _PAYLOAD.size + _TAG_BYTES:
            return None
        payload, tag = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
        if not hmac.compare_digest(tag, self._tag(payload)):
            return None
        token_id, expires, _nonce = _PAYLOAD.unpack(payload)
        expires_at = datetime.fromtimestamp(expires, tz=UTC)
        if now >= expires_at:
            return None
        return PortalSession(token_id=token_id, expires_at=expires_at, cookie=cookie)

    def csrf_token(self, binding: str) -> str:
        """The form token for a session cookie (or, before sign-in, for the sign-in nonce)."""
        return _b64(hmac.new(self._csrf_key, binding.encode(), hashlib.sha256).digest()[:_TAG_BYTES])

    def csrf_matches(self, binding: str, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf_token(binding), presented)


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(16)
