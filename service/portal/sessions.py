"""Portal sessions held on the server: the cookie is a random secret, the store keeps its hash.

Signing in stores a session row (`service.store.portal_sessions`) named by the SHA-256 of a fresh
256-bit secret, and the browser gets the secret. The cookie names no token, client or id, so a
deleted client's cookie can never open another client's portal, whatever ids the database hands
out; signing out deletes the row, so a copied cookie stops working with it, and revoking or
deleting the token deletes its rows. The CSRF token of a session is an HMAC of its cookie under a
key derived from the service secret: it changes with each sign-in and cannot be computed from
outside.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

# Longer than any cookie this portal issues (43 characters); anything longer is not looked up.
MAX_COOKIE_LENGTH = 128


@dataclass(frozen=True, slots=True)
class PortalSession:
    token_id: int
    expires_at: datetime
    cookie: str


def new_session_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_session_secret(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SessionCodec:
    """The form tokens of sessions and of the sign-in page, under a key of their own."""

    def __init__(self, secret: bytes) -> None:
        self._csrf_key = hashlib.sha256(b"pmbridge portal csrf\x00" + secret).digest()

    def csrf_token(self, binding: str) -> str:
        """The form token for a session cookie (or, before sign-in, for the sign-in nonce)."""
        return _b64(hmac.new(self._csrf_key, binding.encode(), hashlib.sha256).digest()[:16])

    def csrf_matches(self, binding: str, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf_token(binding), presented)


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(16)
