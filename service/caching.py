"""A small per-process cache of entries that expire after a jittered time to live.

The hot routes check a token, a client's grants and freshness, or a source's webhook secret on
every request, from entries cached for a few seconds and reloaded by the request that finds them
expired. Entries loaded together (a process's first requests) used to expire together, and their
reloads then stalled the event loop as one burst every time to live: under `bench/bench_feed.py`
20 clients' snapshots and tokens cost ~65 ms at once every 5 s, which was the feed's p99. Each
entry here lives a random 50 to 100% of the time to live, so reloads spread out.

Reloading in a background thread instead measured worse: the thread's Python work contends for
the interpreter lock with the event loop at every I/O call the loop makes.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# An entry lives between (1 - JITTER) and 1 times the time to live.
JITTER = 0.5


class ExpiringCache(Generic[K, V]):
    def __init__(
        self,
        load: Callable[[K], V],
        *,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._load = load
        self._ttl = ttl_s
        self._clock = clock
        self._random = (rng or random.Random()).random  # noqa: S311 (spreading expiries, not secrets)
        self._entries: dict[K, tuple[float, V]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V:
        """The cached value, or a fresh load (whose errors propagate and are not cached)."""
        now = self._clock()
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and now < cached[0]:
                return cached[1]
            generation = self._generation
        value = self._load(key)
        if self._ttl > 0:
            expires = now + self._ttl * (1 - JITTER * self._random())
            with self._lock:
                # A load that began before an invalidation may have read what it invalidated.
                if generation == self._generation:
                    self._entries[key] = (expires, value)
        return value

    def invalidate(self, key: K | None = None) -> None:
        """Forget one entry, or all; a load already running is not kept."""
        with self._lock:
            self._generation += 1
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)
