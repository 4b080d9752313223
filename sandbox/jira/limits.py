"""Jira Cloud's rate limits: a per-endpoint burst limit and the per-issue write limit.

Reasons follow the rate-limiting guide: `jira-burst-based` is scoped to one endpoint and one HTTP method,
`jira-per-issue-on-write` to one issue (20 writes / 2 s and 100 writes / 30 s, reference §8).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimitConfig:
    burst_capacity: int = 500
    burst_refill_per_s: float = 250.0
    issue_write_windows: tuple[tuple[int, float], ...] = ((20, 2.0), (100, 30.0))
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int = 0
    reason: str = ""

    @property
    def near_limit(self) -> bool:
        return self.remaining < self.limit * 0.2


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    config: RateLimitConfig = field(default_factory=RateLimitConfig)
    monotonic: Callable[[], float] = field(default=lambda: 0.0)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _writes: dict[int, deque[float]] = field(default_factory=dict)

    def check_burst(self, endpoint: str) -> Decision:
        config = self.config
        capacity = config.burst_capacity
        if not config.enabled:
            return Decision(True, capacity, capacity)
        now = self.monotonic()
        bucket = self._buckets.get(endpoint)
        if bucket is None:
            bucket = self._buckets[endpoint] = _Bucket(float(capacity), now)
        bucket.tokens = min(float(capacity), bucket.tokens + (now - bucket.stamp) * config.burst_refill_per_s)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            wait = math.ceil((1.0 - bucket.tokens) / config.burst_refill_per_s)
            return Decision(False, capacity, 0, max(wait, 1), "jira-burst-based")
        bucket.tokens -= 1.0
        return Decision(True, capacity, int(bucket.tokens))

    def check_issue_write(self, issue_id: int) -> Decision:
        windows = self.config.issue_write_windows
        if not self.config.enabled or not windows:
            return Decision(True, 0, 0)
        now = self.monotonic()
        longest = max(seconds for _, seconds in windows)
        stamps = self._writes.setdefault(issue_id, deque())
        while stamps and stamps[0] <= now - longest:
            stamps.popleft()
        for count, seconds in windows:
            recent = [s for s in stamps if s > now - seconds]
            if len(recent) >= count:
                wait = math.ceil(recent[0] + seconds - now)
                return Decision(False, count, 0, max(wait, 1), "jira-per-issue-on-write")
        stamps.append(now)
        count, seconds = windows[0]
        return Decision(True, count, count - sum(1 for s in stamps if s > now - seconds))

    def reset(self) -> None:
        self._buckets.clear()
        self._writes.clear()
