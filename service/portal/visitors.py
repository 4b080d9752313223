"""Who is looking at the portal: a client token exchanged once for a server-side session; the session
and its token are re-checked on every request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.errors import NotFoundError
from service.portal.sessions import (
    MAX_COOKIE_LENGTH,
    PortalSession,
    SessionCodec,
    hash_session_secret,
    new_session_secret,
)
from service.store.client_views import ClientGrants, load_grants
from service.store.db import transaction
from service.store.portal_sessions import add_portal_session, find_portal_session, remove_portal_session
from service.store.runtime import Store
from service.store.tenancy import (
    TOKEN_PREFIX,
    find_client,
    find_token_by_hash,
    get_token,
    hash_token,
    touch_token,
)

# A portal session lasts a working day at most, and never past its token's expiry.
SESSION_LIFETIME = timedelta(hours=12)
# A token is 4 + 43 characters; anything much longer is not one, and is not hashed.
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Visitor:
    token_id: int
    client_name: str
    grants: ClientGrants
    session: PortalSession
    csrf: str  # the form token of this session


def sign_in(store: Store, *, secret: str, now: datetime) -> PortalSession | None:
    """A new session for a usable client token; None for anything else (admin tokens included)."""
    secret = secret.strip()
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        return None
    cookie = new_session_secret()
    with transaction(store.sessions) as session:
        token = find_token_by_hash(session, token_hash=hash_token(secret))
        if token is None or token.id is None or token.client_id is None or not token.is_usable(now):
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
        remove_portal_session(session, secret_hash=hash_session_secret(cookie))


def find_visitor(store: Store, codec: SessionCodec, *, cookie: str | None, now: datetime) -> Visitor | None:
    """The visitor behind a session cookie whose token is still usable; None otherwise."""
    if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
        return None
    with store.sessions() as session:
        stored = find_portal_session(session, secret_hash=hash_session_secret(cookie), now=now)
        if stored is None:
            return None
        portal_session = PortalSession(token_id=stored.token_id, expires_at=stored.expires_at, cookie=cookie)
        try:
            token = get_token(session, token_id=portal_session.token_id)
        except NotFoundError:
            return None
        if token.client_id is None or not token.is_usable(now):
            return None
        client = find_client(session, client_id=token.client_id)
        if client is None:
            return None
        grants = load_grants(session, client_id=token.client_id)
    return Visitor(
        token_id=portal_session.token_id,
        client_name=client.name,
        grants=grants,
        session=portal_session,
        csrf=codec.csrf_token(portal_session.cookie),
    )
