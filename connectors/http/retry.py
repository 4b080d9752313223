"""The one retry policy every connector call goes through.

Transient failures only (429, 408, 5xx, transport errors). A server-requested wait (`Retry-After`
or the rate-limit reset) is honoured exactly; otherwise capped exponential backoff with full
jitter (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). Jira answers
an early re-send with the same or a longer `Retry-After`, so a requested wait beyond
`max_retry_after` stops retrying and surfaces the error (with its `retry_after`) for the caller to
reschedule instead of blocking a worker.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import tenacity

from connectors.http.errors import TransientError

T = TypeVar("T")


def _uniform(low: float, high: float) -> float:
    return random.uniform(low, high)  # noqa: S311 - jitter, not a secret


def _no_sleep(_seconds: float) -> None:
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_wait: float = 1.0
    max_backoff: float = 60.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[float, float], float] = field(default=_uniform, compare=False)

    @classmethod
    def without_waiting(cls, *, max_attempts: int = 5, max_retry_after: float = 120.0) -> RetryPolicy:
        """Same decisions, no sleeping: for tests and for the loopback sandbox."""
        return cls(max_attempts=max_attempts, max_retry_after=max_retry_after, sleep=_no_sleep)

    def should_retry(self, error: BaseException, *, idempotent: bool) -> bool:
        if not isinstance(error, TransientError):
            return False
        if not idempotent and error.maybe_applied:
            return False
        return error.retry_after is None or error.retry_after <= self.max_retry_after

    def wait_before(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if isinstance(error, TransientError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.base_wait * 2 ** (attempt - 1))
        return self.jitter(0.0, ceiling)

    def call(self, attempt: Callable[[], T], *, idempotent: bool = True) -> T:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            retry=tenacity.retry_if_exception(lambda exc: self.should_retry(exc, idempotent=idempotent)),
            wait=self._tenacity_wait,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(attempt)

    def _tenacity_wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        return self.wait_before(state.attempt_number, error)
