"""Bearer tokens: who is calling, and what they may reach.

A token is checked by the SHA-256 of what was presented (the store keeps nothing else), cached for
a few seconds so the hot reads cost no query; expiry and revocation are checked on every request,
and a revocation through the admin API drops the cached entry at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException

from service.caching import ExpiringCache
from service.errors import DatabaseUnavailableError
from service.logging import get_logger
from service.ratelimit import RateLimiter, retry_after_header
from service.store.db import transaction
from service.store.runtime import Store
from service.store.tenancy import TOKEN_PREFIX, find_token_by_hash, hash_token, touch_tokens

log = get_logger(__name__)

# last_used_at is a hint for operators, not an audit log: the times are kept in memory and written
# in one batch this often, off the request path, so reads never wait on a busy writer.
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


class LastUseRecorder:
    """When each token was last used, written in batches by a thread of its own.

    A write that fails (the database locked or away) keeps the times for the next batch; `close`
    writes what is left.
    """

    def __init__(self, store: Store, *, interval: timedelta = TOUCH_INTERVAL) -> None:
        self._store = store
        self._interval = interval.total_seconds()
        self._pending: dict[int, datetime] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def note(self, token_id: int, *, now: datetime) -> None:
        with self._lock:
            self._pending[token_id] = now

    @property
    def pending(self) -> int:
        """How many tokens have a time not yet written."""
        with self._lock:
            return len(self._pending)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pmbridge-token-use", daemon=True)
        self._thread.start()

    def flush(self) -> int:
        """Write the times noted so far; returns how many tokens were written (0 on failure)."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        try:
            with transaction(self._store.sessions) as session:
                touch_tokens(session, last_used=batch)
        except (SQLAlchemyError, DatabaseUnavailableError) as exc:
            with self._lock:
                for token_id, used_at in batch.items():
                    self._pending.setdefault(token_id, used_at)
            log.warning("api.token_use.write_failed", tokens=len(batch), error_type=type(exc).__name__)
            return 0
        return len(batch)

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self.flush()


class Authenticator:
    def __init__(
        self, store: Store, *, cache_seconds: float, limiter: RateLimiter, last_use: LastUseRecorder
    ) -> None:
        self._store = store
        self.limiter = limiter
        self.last_use = last_use
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
        self.last_use.note(caller.token_id, now=now)
        return caller

    def forget(self) -> None:
        """Drop every cached token check (after a revocation, or a client removed)."""
        self._callers.invalidate()

    def _load(self, token_hash: str) -> Caller | None:
        try:
            with self._store.sessions() as session:
                token = find_token_by_hash(session, token_hash=token_hash)
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
