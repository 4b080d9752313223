"""Client-side pacing so the provider rarely has to refuse.

Two mechanisms:
- a global "not before" instant, pushed out when a response reports an exhausted or nearly
  exhausted budget (`X-RateLimit-Remaining` / `X-RateLimit-NearLimit`, spread over the time to
  `X-RateLimit-Reset`) or a refusal with `Retry-After`;
- sliding windows per written entity. Jira Cloud limits writes per issue to 20 per 2 s and 100 per
  30 s (developer.atlassian.com/cloud/jira/platform/rate-limiting), so comment writes are keyed by
  issue.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from connectors.http.headers import RateLimitHeaders

JIRA_ISSUE_WRITE_WINDOWS: tuple[tuple[int, float], ...] = ((20, 2.0), (100, 30.0))
_PRUNE_THRESHOLD = 1024


class RateLimiter:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        write_windows: Sequence[tuple[int, float]] = JIRA_ISSUE_WRITE_WINDOWS,
        near_limit_fraction: float = 0.2,
        near_limit_pause: float = 1.0,
        max_pause: float = 60.0,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._windows = tuple(sorted(write_windows, key=lambda window: window[1]))
        self._longest_window = max((span for _, span in self._windows), default=0.0)
        self._near_limit_fraction = near_limit_fraction
        self._near_limit_pause = near_limit_pause
        self._max_pause = max_pause
        self._lock = threading.Lock()
        self._not_before = 0.0
        self._writes: dict[str, deque[float]] = {}
        self.last_reason: str | None = None

    def acquire(self, *, write_key: str | None = None) -> None:
        """Block until a call (a write to `write_key`, if given) may be sent."""
        while True:
            with self._lock:
                now = self._clock()
                wait = max(self._not_before - now, 0.0)
                if write_key is not None:
                    wait = max(wait, self._write_wait(write_key, now))
                if wait <= 0.0:
                    if write_key is not None:
                        self._record_write(write_key, now)
                    return
            self._sleep(wait)

    def observe(self, headers: RateLimitHeaders, *, status_code: int) -> None:
        """Update pacing from a response (any status)."""
        if headers.reason is not None:
            self.last_reason = headers.reason
        pause = self._pause_for(headers, status_code=status_code)
        if pause <= 0.0:
            return
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + min(pause, self._max_pause))

    def _pause_for(self, headers: RateLimitHeaders, *, status_code: int) -> float:
        if status_code == 429 or status_code >= 500:
            requested = headers.requested_wait()
            return requested if requested is not None else 0.0
        remaining = headers.remaining
        if remaining is not None and remaining <= 0:
            if headers.reset_in is not None:
                return headers.reset_in
            if headers.fill_rate and headers.interval_seconds:
                return headers.interval_seconds / headers.fill_rate
            return self._near_limit_pause
        low = (
            remaining is not None
            and headers.limit is not None
            and headers.limit > 0
            and remaining < headers.limit * self._near_limit_fraction
        )
        if not (headers.near_limit or low):
            return 0.0
        if headers.reset_in is not None and remaining is not None:
            return headers.reset_in / (remaining + 1)
        return self._near_limit_pause

    def _write_wait(self, key: str, now: float) -> float:
        stamps = self._writes.get(key)
        if not stamps:
            return 0.0
        while stamps and stamps[0] <= now - self._longest_window:
            stamps.popleft()
        wait = 0.0
        for limit, span in self._windows:
            in_window = [stamp for stamp in stamps if stamp > now - span]
            if len(in_window) >= limit:
                wait = max(wait, in_window[len(in_window) - limit] + span - now)
        return wait

    def _record_write(self, key: str, now: float) -> None:
        if len(self._writes) >= _PRUNE_THRESHOLD:
            horizon = now - self._longest_window
            for stale in [k for k, stamps in self._writes.items() if not stamps or stamps[-1] <= horizon]:
                del self._writes[stale]
        self._writes.setdefault(key, deque()).append(now)
