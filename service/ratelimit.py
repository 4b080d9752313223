"""Token buckets keyed by anything hashable: the API's per-token limit and the portal's sign-in
limits per address and per token prefix. A leaf the web layers import.

Keys an outsider chooses (addresses, token prefixes) must not grow the table without bound: past
`max_keys`, the buckets idle longest are dropped, which only ever forgets a limit that has long
been refilled or is about to be.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class RateLimiter:
    """A token bucket per key: `burst` requests at once, refilled at `per_second`."""

    def __init__(
        self,
        *,
        per_second: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._rate = per_second
        self._burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, key: Hashable) -> float | None:
        """Take one request from `key`'s bucket; None when allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        return None if allowed else (1.0 - tokens) / self._rate


def retry_after_header(wait_seconds: float) -> str:
    """Retry-After takes whole seconds (RFC 9110 §10.2.3): round up so a retry is never early."""
    return str(max(1, math.ceil(wait_seconds)))
