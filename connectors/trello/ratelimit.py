"""Client-side pacing under Trello's sliding windows.

Trello allows 300 requests per 10 s per API key (shared by all of the key's tokens) and 100 per
10 s per token (developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits/). A 429 carries
no `Retry-After`, only a JSON body naming the exhausted limit, and once a key has drawn more than
200 refusals in a window Trello refuses everything on that key for the rest of the window. So the
limiter keeps both windows itself, and a refusal blocks the exhausted key or token for a whole
window instead of letting retries hammer it. Budgets are per key: share one `TrelloRateLimiter`
between every client of a key in the process. Buckets are named by credential fingerprints, never
by the credentials.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable

import httpx

from connectors.http import RateLimiter
from connectors.trello.config import TrelloCredentials

TRELLO_WINDOW_SECONDS = 10.0
TRELLO_TOKEN_LIMIT = 100
TRELLO_KEY_LIMIT = 300
_MIN_WAIT = 1e-6
# 429 body `error` codes (TRL; TRLH). The DB-time and member-route limits are charged to the token.
KEY_LIMIT_ERRORS = frozenset({"API_KEY_LIMIT_EXCEEDED"})
TOKEN_LIMIT_ERRORS = frozenset(
    {"API_TOKEN_LIMIT_EXCEEDED", "API_TOKEN_DB_LIMIT_EXCEEDED", "MEMBER_LIMIT_EXCEEDED"}
)
_TOKEN_REMAINING = "x-rate-limit-api-token-remaining"  # noqa: S105 - a header name
_TOKEN_INTERVAL = "x-rate-limit-api-token-interval-ms"  # noqa: S105 - a header name
_KEY_REMAINING = "x-rate-limit-api-key-remaining"
_KEY_INTERVAL = "x-rate-limit-api-key-interval-ms"


class TrelloRateLimiter:
    def __init__(
        self,
        *,
        token_limit: int = TRELLO_TOKEN_LIMIT,
        key_limit: int = TRELLO_KEY_LIMIT,
        window: float = TRELLO_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if token_limit < 1 or key_limit < 1 or window <= 0:
            raise ValueError("limits and window must be positive")
        self.token_limit = token_limit
        self.key_limit = key_limit
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._stamps: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self.last_refusal: str | None = None

    def bind(self, credentials: TrelloCredentials) -> TrelloBoundLimiter:
        """The view one client's `HttpSession` paces through."""
        return TrelloBoundLimiter(
            self, key_id=credentials.key_fingerprint, token_id=credentials.token_fingerprint
        )

    def acquire(self, *, key_id: str, token_id: str, cost: int = 1) -> None:
        """Block until `cost` more requests fit in both windows, then record them."""
        if cost < 1 or cost > min(self.token_limit, self.key_limit):
            raise ValueError(f"cost must be between 1 and {min(self.token_limit, self.key_limit)}")
        key, token = _key_bucket(key_id), _token_bucket(token_id)
        while True:
            with self._lock:
                now = self.clock()
                wait = max(
                    self._blocked_until.get(key, 0.0) - now,
                    self._blocked_until.get(token, 0.0) - now,
                    self._window_wait(key, self.key_limit, cost, now),
                    self._window_wait(token, self.token_limit, cost, now),
                )
                if wait <= 0.0:
                    for bucket in (key, token):
                        self._stamps.setdefault(bucket, deque()).extend([now] * cost)
                    return
            self.sleep(wait)

    def block(self, *, key_id: str | None = None, token_id: str | None = None, seconds: float) -> None:
        """Send nothing more on this key and/or token for `seconds`."""
        with self._lock:
            until = self.clock() + seconds
            for bucket in (
                _key_bucket(key_id) if key_id else None,
                _token_bucket(token_id) if token_id else None,
            ):
                if bucket is not None:
                    self._blocked_until[bucket] = max(self._blocked_until.get(bucket, 0.0), until)

    def observe(self, response: httpx.Response, *, key_id: str, token_id: str) -> None:
        """Learn from a response: a 429 body, or a budget that other processes have used up."""
        if response.status_code == 429:
            reason = _refusal_code(response)
            self.last_refusal = reason
            # An unknown or missing code blocks both: guessing low risks the key-wide lockout.
            self.block(
                key_id=None if reason in TOKEN_LIMIT_ERRORS else key_id,
                token_id=None if reason in KEY_LIMIT_ERRORS else token_id,
                seconds=self.window,
            )
            return
        headers = response.headers
        if _header_int(headers, _KEY_REMAINING) == 0:
            self.block(key_id=key_id, seconds=_interval(headers, _KEY_INTERVAL, self.window))
        if _header_int(headers, _TOKEN_REMAINING) == 0:
            self.block(token_id=token_id, seconds=_interval(headers, _TOKEN_INTERVAL, self.window))

    def _window_wait(self, bucket: str, limit: int, cost: int, now: float) -> float:
        stamps = self._stamps.get(bucket)
        if not stamps:
            return 0.0
        horizon = now - self.window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        overflow = len(stamps) + cost - limit
        if overflow <= 0:
            return 0.0
        # Never 0 while over the limit: `a + w - now` can round to 0 while `a <= now - w` is still false.
        return max(stamps[overflow - 1] + self.window - now, _MIN_WAIT)


class TrelloBoundLimiter(RateLimiter):
    """A `RateLimiter` for the shared session, bound to one key and token of a `TrelloRateLimiter`.

    The generic pacing of the base class (Retry-After and `X-RateLimit-*` headers) still applies;
    Trello's own windows come on top.
    """

    def __init__(self, shared: TrelloRateLimiter, *, key_id: str, token_id: str) -> None:
        super().__init__(clock=shared.clock, sleep=shared.sleep, write_windows=())
        self.shared = shared
        self._key_id = key_id
        self._token_id = token_id

    def acquire(self, *, write_key: str | None = None) -> None:
        super().acquire(write_key=write_key)
        self.shared.acquire(key_id=self._key_id, token_id=self._token_id)

    def charge(self, cost: int) -> None:
        """Take `cost` extra units (a batch's sub-requests) before the call itself acquires one."""
        if cost > 0:
            self.shared.acquire(key_id=self._key_id, token_id=self._token_id, cost=cost)

    def observe_response(self, response: httpx.Response) -> None:
        self.shared.observe(response, key_id=self._key_id, token_id=self._token_id)


def _key_bucket(key_id: str) -> str:
    return f"key:{key_id}"


def _token_bucket(token_id: str) -> str:
    return f"token:{token_id}"


def _refusal_code(response: httpx.Response) -> str | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _interval(headers: httpx.Headers, name: str, default: float) -> float:
    millis = _header_int(headers, name)
    return millis / 1000.0 if millis is not None and millis > 0 else default
