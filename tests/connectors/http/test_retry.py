from __future__ import annotations

import pytest

from connectors.http import (
    AuthError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    TransientError,
)


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (TransientError("5xx"), True, True),
        (TransientError("5xx"), False, False),
        (TransientError("connect", maybe_applied=False), False, True),
        (RateLimitedError("429", retry_after=3), False, True),
        (RateLimitedError("429", retry_after=121), True, False),
        (PermanentError("400"), True, False),
        (AuthError("401"), True, False),
        (NotFoundError("404"), True, False),
        (ValueError("bug"), True, False),
    ],
    ids=[
        "transient",
        "transient-maybe-applied-non-idempotent",
        "connect-failure-non-idempotent",
        "rate-limited-non-idempotent",
        "retry-after-beyond-cap",
        "permanent",
        "auth",
        "not-found",
        "foreign-exception",
    ],
)
def test_retry_policy_should_retry_only_transient_errors(
    error: BaseException, idempotent: bool, expected: bool
) -> None:
    assert RetryPolicy().should_retry(error, idempotent=idempotent) is expected


def test_retry_policy_wait_honours_retry_after() -> None:
    policy = RetryPolicy(jitter=lambda low, high: high)

    assert policy.wait_before(3, RateLimitedError("429", retry_after=7.5)) == 7.5


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 1.0), (2, 2.0), (3, 4.0), (7, 60.0), (30, 60.0)],
    ids=["first", "second", "third", "capped", "far-capped"],
)
def test_retry_policy_wait_without_retry_after_is_full_jitter_below_capped_exponential(
    attempt: int, ceiling: float
) -> None:
    bounds: list[tuple[float, float]] = []

    def jitter(low: float, high: float) -> float:
        bounds.append((low, high))
        return high / 2

    policy = RetryPolicy(base_wait=1.0, max_backoff=60.0, jitter=jitter)

    assert policy.wait_before(attempt, TransientError("5xx")) == ceiling / 2
    assert bounds == [(0.0, ceiling)]


def test_retry_policy_call_retries_until_success_and_sleeps_between() -> None:
    sleeps: list[float] = []
    outcomes: list[BaseException | str] = [TransientError("a"), RateLimitedError("b", retry_after=2), "ok"]

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    policy = RetryPolicy(sleep=sleeps.append, jitter=lambda low, high: high)

    assert policy.call(attempt) == "ok"
    assert sleeps == [1.0, 2.0]


def test_retry_policy_call_gives_up_after_max_attempts_with_last_error() -> None:
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise TransientError(f"failure {len(calls)}")

    with pytest.raises(TransientError, match="failure 3"):
        RetryPolicy.without_waiting(max_attempts=3).call(attempt)
    assert len(calls) == 3


def test_retry_policy_call_does_not_retry_permanent_error() -> None:
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise PermanentError("bad request")

    with pytest.raises(PermanentError):
        RetryPolicy.without_waiting().call(attempt)
    assert calls == [1]
