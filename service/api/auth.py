"""Bearer tokens: who is calling, and what they may reach.

A token is checked by the SHA-256 of what was presented (the store keeps nothing else), cached for
a few seconds so the hot reads cost no query; expiry and revocation are checked on every request,
and a revocation through the admin API drops the cached entry at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from service.caching import ExpiringCache
from service.errors import DatabaseUnavailableError
from service.logging import get_logger
from service.ratelimit import RateLimiter, retry_after_header
from service.store.db import transaction
from service.store.runtime import Store
from service.store.tenancy import TOKEN_PREFIX, find_token_by_hash, hash_token, touch_token

log = get_logger(__name__)

# last_used_at is a hint for operators, not an audit log: write it at most this often per token.
TOUCH_INTERVAL = timedelta(minutes=1)
_BEARER = "bearer "
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Caller:
    token_id: int
    client_id: int | None
    is_admin: bool
    expires_at: datetime | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class ClientCaller:
    token_id: int
    client_id: int


class Authenticator:
    def __init__(self, store: Store, *, cache_seconds: float, limiter: RateLimiter) -> None:
        self._store = store
        self.limiter = limiter
        self._callers: ExpiringCache[str, Caller | None] = ExpiringCache(self._load, ttl_s=cache_seconds)

    def authenticate(self, authorization: str | None, *, now: datetime) -> Caller:
        """The caller behind an `Authorization: Bearer pmb_…` header; 401 for anything else."""
        if not authorization or not authorization[: len(_BEARER)].lower() == _BEARER:
            raise HTTPException(401, "a bearer token is needed", headers=_CHALLENGE)
        secret = authorization[len(_BEARER) :].strip()
        if not secret.startswith(TOKEN_PREFIX):
            raise HTTPException(401, "the token is not valid", headers=_CHALLENGE)
        caller = self._callers.get(hash_token(secret))
        if caller is None:
            raise HTTPException(401, "the token is not valid", headers=_CHALLENGE)
        if caller.revoked:
            log.info("api.token.refused", token_id=caller.token_id, reason="revoked")
            raise HTTPException(401, "the token is not valid", headers=_CHALLENGE)
        if caller.expires_at is not None and now >= caller.expires_at:
            log.info("api.token.refused", token_id=caller.token_id, reason="expired")
            raise HTTPException(401, "the token has expired", headers=_CHALLENGE)
        wait = self.limiter.acquire(caller.token_id)
        if wait is not None:
            raise HTTPException(
                429, "too many requests for this token", headers={"Retry-After": retry_after_header(wait)}
            )
        return caller

    def forget(self) -> None:
        """Drop every cached token check (after a revocation, or a client removed)."""
        self._callers.invalidate()

    def _load(self, token_hash: str) -> Caller | None:
        now = datetime.now(UTC)
        try:
            with transaction(self._store.sessions) as session:
                token = find_token_by_hash(session, token_hash=token_hash)
                if token is not None and token.id is not None and token.is_usable(now):
                    last = token.last_used_at
                    if last is None or now - last >= TOUCH_INTERVAL:
                        touch_token(session, token_id=token.id, now=now)
        except OperationalError as exc:
            raise DatabaseUnavailableError("the database is unavailable") from exc
        if token is None or token.id is None:
            return None
        return Caller(
            token_id=token.id,
            client_id=token.client_id,
            is_admin=token.is_admin,
            expires_at=token.expires_at,
            revoked=token.revoked_at is not None,
        )


def authenticator_of(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


def client_caller(request: Request) -> ClientCaller:
    """A client's token; an admin token has no client to read as, so it is refused with 403."""
    caller = authenticator_of(request).authenticate(
        request.headers.get("authorization"), now=datetime.now(UTC)
    )
    if caller.client_id is None:
        raise HTTPException(403, "this route needs a client token")
    return ClientCaller(token_id=caller.token_id, client_id=caller.client_id)


async def require_client(request: Request) -> ClientCaller:
    """`client_caller` as a dependency."""
    return client_caller(request)


async def require_admin(request: Request) -> Caller:
    caller = authenticator_of(request).authenticate(
        request.headers.get("authorization"), now=datetime.now(UTC)
    )
    if not caller.is_admin:
        raise HTTPException(403, "this route needs an admin token")
    return caller
