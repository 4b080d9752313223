"""Trello's rate limits: 100 requests / 10 s per token, 300 / 10 s per API key, 100 / 900 s on /1/members.

Source: developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits/ (2021-01-05) and the staff answer
on community.developer.atlassian.com/t/…/30353 for the `x-rate-limit-*` headers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TrelloRateLimits:
    token_max: int = 100
    key_max: int = 300
    interval_s: float = 10.0
    member_max: int = 100
    member_interval_s: float = 900.0
    # "If the amount of 429 errors per API key exceeds 200, Trello will return 429 for the remainder of
    # the API key requests for the remainder of the 10s window."
    key_lockout_after_429s: int = 200
    # Whether each URL of a /1/batch call counts as a request (undocumented; off = the batch counts once).
    count_batch_urls: bool = False


@dataclass(frozen=True)
class RateDecision:
    error: str | None  # None = allowed; else the 429 body's `error`
    headers: dict[str, str]


@dataclass(slots=True)
class _Window:
    started: float
    count: int = 0
    rejected: int = 0


class TrelloRateLimiter:
    """Fixed windows opened by the first request after the previous one expired.

    `now` is a monotonic seconds source, injectable so tests need not sleep; the sandbox clock is not
    used because tests freeze it, and a frozen window would never reopen.
    """

    def __init__(
        self,
        limits: TrelloRateLimits | None = None,
        *,
        enabled: bool = True,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or TrelloRateLimits()
        self.enabled = enabled
        self._now = now
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def _window(self, kind: str, subject: str, interval: float, now: float) -> _Window:
        window = self._windows.get((kind, subject))
        if window is None or now - window.started >= interval:
            window = _Window(started=now)
            self._windows[(kind, subject)] = window
        return window

    def check(self, *, key: str, token: str, member_route: bool = False, cost: int = 1) -> RateDecision:
        limits = self.limits
        if not self.enabled:
            return RateDecision(None, self._headers(limits.token_max, limits.key_max))
        with self._lock:
            now = self._now()
            by_key = self._window("key", key, limits.interval_s, now)
            by_token = self._window("token", token, limits.interval_s, now)
            error: str | None = None
            if by_key.rejected > limits.key_lockout_after_429s or by_key.count + cost > limits.key_max:
                error = "API_KEY_LIMIT_EXCEEDED"
            elif by_token.count + cost > limits.token_max:
                error = "API_TOKEN_LIMIT_EXCEEDED"
            elif member_route:
                by_member = self._window("member", token, limits.member_interval_s, now)
                if by_member.count + 1 > limits.member_max:
                    error = "MEMBER_LIMIT_EXCEEDED"
                else:
                    by_member.count += 1
            if error is None:
                by_key.count += cost
                by_token.count += cost
            else:
                by_key.rejected += 1
            headers = self._headers(limits.token_max - by_token.count, limits.key_max - by_key.count)
        return RateDecision(error, headers)

    def _headers(self, token_remaining: int, key_remaining: int) -> dict[str, str]:
        limits = self.limits
        return {
            "x-rate-limit-api-token-interval-ms": str(int(limits.interval_s * 1000)),
            "x-rate-limit-api-token-max": str(limits.token_max),
            "x-rate-limit-api-token-remaining": str(max(token_remaining, 0)),
            "x-rate-limit-api-key-interval-ms": str(int(limits.interval_s * 1000)),
            "x-rate-limit-api-key-max": str(limits.key_max),
            "x-rate-limit-api-key-remaining": str(max(key_remaining, 0)),
        }
