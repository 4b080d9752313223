"""Sessions held on the server: the cookie is a random secret, the store keeps its hash.

Signing in stores a session row (`service.store.portal_sessions`) named by the SHA-256 of a fresh
256-bit secret, and the browser gets the secret. The cookie names no token, client or id, so a
deleted client's cookie can never open another client's portal, whatever ids the database hands
out; signing out deletes the row, so a copied cookie stops working with it, and revoking or
deleting the token deletes its rows. The CSRF token of a session is an HMAC of its cookie under a
key derived from the service secret: it changes with each sign-in and cannot be computed from
outside.

Both sites keep their sessions in the one table. Which tokens a site admits is its `admits`
predicate, checked at sign-in and again on every request: a client token opens the portal only,
an admin token the console only, so a session of one never opens the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.domain.tenancy import ApiToken
from service.errors import NotFoundError
from service.store.db import transaction
from service.store.portal_sessions import add_portal_session, delete_portal_session, find_portal_session
from service.store.runtime import Store
from service.store.tenancy import TOKEN_PREFIX, find_token_by_hash, get_token, hash_token, touch_token

# Longer than any cookie these sites issue (43 characters); anything longer is not looked up.
MAX_COOKIE_LENGTH = 128
# A session lasts a working day at most, and never past its token's expiry.
SESSION_LIFETIME = timedelta(hours=12)
# A token is 4 + 43 characters; anything much longer is not one, and is not hashed.
MAX_TOKEN_LENGTH = 200

TokenCheck = Callable[[ApiToken], bool]


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


def is_client_token(token: ApiToken) -> bool:
    return token.client_id is not None and not token.is_admin


def is_admin_token(token: ApiToken) -> bool:
    return token.is_admin and token.client_id is None


def open_session(store: Store, *, secret: str, now: datetime, admits: TokenCheck) -> PortalSession | None:
    """A new session for a usable token the site admits; None for anything else."""
    secret = secret.strip()
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        return None
    cookie = new_session_secret()
    with transaction(store.sessions) as session:
        token = find_token_by_hash(session, token_hash=hash_token(secret))
        if token is None or token.id is None or not admits(token) or not token.is_usable(now):
            return None
        touch_token(session, token_id=token.id, now=now)
        expires_at = now + SESSION_LIFETIME
        if token.expires_at is not None:
            expires_at = min(expires_at, token.expires_at)
        add_portal_session(
            session,
            secret_hash=hash_session_secret(cookie),
            token_id=token.id,
            now=now,
            expires_at=expires_at,
        )
    return PortalSession(token_id=token.id, expires_at=expires_at, cookie=cookie)


def end_session(store: Store, *, cookie: str | None) -> None:
    """End the session of this cookie, so a copy of it opens nothing either."""
    if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
        return
    with transaction(store.sessions) as session:
        delete_portal_session(session, secret_hash=hash_session_secret(cookie))


@dataclass(frozen=True, slots=True)
class SessionHolder:
    session: PortalSession
    token: ApiToken


def find_session(
    store: Store, *, cookie: str | None, now: datetime, admits: TokenCheck
) -> SessionHolder | None:
    """The session of a cookie whose token is still usable and admitted here; None otherwise."""
    if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
        return None
    with store.sessions() as session:
        stored = find_portal_session(session, secret_hash=hash_session_secret(cookie), now=now)
        if stored is None:
            return None
        try:
            token = get_token(session, token_id=stored.token_id)
        except NotFoundError:
            return None
    if not admits(token) or not token.is_usable(now):
        return None
    return SessionHolder(
        session=PortalSession(token_id=stored.token_id, expires_at=stored.expires_at, cookie=cookie),
        token=token,
    )
