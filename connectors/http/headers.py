"""Rate-limit headers as one parsed value.

Jira Cloud sends `Retry-After` (seconds) and `X-RateLimit-Reset` (ISO-8601 `yyyy-MM-ddTHH:mmZ`) on 429
and on some 503s, plus `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-NearLimit` and
`RateLimit-Reason` (developer.atlassian.com/cloud/jira/platform/rate-limiting). Jira Data Center's
token bucket adds `X-RateLimit-Interval-Seconds` and `X-RateLimit-FillRate`
(confluence.atlassian.com/doc/_ratelimiting_httpheaders-992678779.html).
"""

from __future__ import annotations

import email.utils
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

_EPOCH_SECONDS_FLOOR = 1_000_000_000


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    """What a response said about the caller's budget; every field is optional."""

    retry_after: float | None = None
    reset_in: float | None = None
    limit: int | None = None
    remaining: int | None = None
    near_limit: bool = False
    reason: str | None = None
    fill_rate: float | None = None
    interval_seconds: float | None = None

    @classmethod
    def parse(cls, headers: httpx.Headers, *, now: datetime) -> RateLimitHeaders:
        return cls(
            retry_after=parse_retry_after(headers.get("retry-after"), now=now),
            reset_in=parse_reset(headers.get("x-ratelimit-reset"), now=now),
            limit=_parse_int(headers.get("x-ratelimit-limit")),
            remaining=_parse_int(headers.get("x-ratelimit-remaining")),
            near_limit=(headers.get("x-ratelimit-nearlimit") or "").strip().lower() == "true",
            reason=headers.get("ratelimit-reason") or headers.get("x-ratelimit-reason"),
            fill_rate=_parse_float(headers.get("x-ratelimit-fillrate")),
            interval_seconds=_parse_float(headers.get("x-ratelimit-interval-seconds")),
        )

    def requested_wait(self) -> float | None:
        """Seconds the server asked us to wait: `Retry-After` first, else time to the reset."""
        if self.retry_after is not None:
            return self.retry_after
        return self.reset_in


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """`Retry-After` is delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    seconds = _parse_float(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def parse_reset(value: str | None, *, now: datetime) -> float | None:
    """Seconds until a reset given as ISO-8601 (Jira) or epoch seconds (other providers)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    number = _parse_float(text)
    if number is not None:
        if number >= _EPOCH_SECONDS_FLOOR:
            return max(number - now.timestamp(), 0.0)
        return max(number, 0.0)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def _parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _parse_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None
