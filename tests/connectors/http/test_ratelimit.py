from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from connectors.http import RateLimiter, RateLimitHeaders

if TYPE_CHECKING:
    from tests.support.fakes import FakeClock


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(clock=clock.monotonic, sleep=clock.sleep)


def test_rate_limiter_acquire_without_signals_does_not_wait(limiter: RateLimiter, clock: FakeClock) -> None:
    for _ in range(50):
        limiter.acquire()

    assert clock.sleeps == []


def test_rate_limiter_twenty_first_write_to_one_issue_waits_for_two_second_window(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    for _ in range(20):
        limiter.acquire(write_key="ED-1")

    limiter.acquire(write_key="ED-1")

    assert clock.sleeps == [2.0]


def test_rate_limiter_writes_to_other_issues_are_not_paced_together(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    for _ in range(20):
        limiter.acquire(write_key="ED-1")

    limiter.acquire(write_key="ED-2")

    assert clock.sleeps == []


def test_rate_limiter_hundred_and_first_write_waits_for_thirty_second_window(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    for _ in range(101):
        limiter.acquire(write_key="ED-1")

    assert clock.now - 1_000.0 == pytest.approx(30.0)


def test_rate_limiter_retry_after_on_429_blocks_following_calls(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    limiter.observe(RateLimitHeaders(retry_after=5.0, reason="jira-burst-based"), status_code=429)

    limiter.acquire()

    assert clock.sleeps == [5.0]
    assert limiter.last_reason == "jira-burst-based"


def test_rate_limiter_exhausted_budget_waits_until_reset(limiter: RateLimiter, clock: FakeClock) -> None:
    limiter.observe(RateLimitHeaders(remaining=0, limit=100, reset_in=12.0), status_code=200)

    limiter.acquire()

    assert clock.sleeps == [12.0]


def test_rate_limiter_near_limit_spreads_remaining_calls_until_reset(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    limiter.observe(RateLimitHeaders(remaining=9, limit=100, reset_in=30.0), status_code=200)

    limiter.acquire()

    assert clock.sleeps == [3.0]


def test_rate_limiter_near_limit_flag_without_numbers_pauses_briefly(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    limiter.observe(RateLimitHeaders(near_limit=True), status_code=200)

    limiter.acquire()

    assert clock.sleeps == [1.0]


def test_rate_limiter_plenty_remaining_does_not_slow_down(limiter: RateLimiter, clock: FakeClock) -> None:
    limiter.observe(RateLimitHeaders(remaining=80, limit=100, reset_in=30.0), status_code=200)

    limiter.acquire()

    assert clock.sleeps == []


def test_rate_limiter_data_center_empty_bucket_waits_one_refill(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    limiter.observe(RateLimitHeaders(remaining=0, fill_rate=10.0, interval_seconds=60.0), status_code=200)

    limiter.acquire()

    assert clock.sleeps == [6.0]


def test_rate_limiter_pause_is_capped(clock: FakeClock) -> None:
    limiter = RateLimiter(clock=clock.monotonic, sleep=clock.sleep, max_pause=10.0)
    limiter.observe(RateLimitHeaders(retry_after=3_600.0), status_code=429)

    limiter.acquire()

    assert clock.sleeps == [10.0]
