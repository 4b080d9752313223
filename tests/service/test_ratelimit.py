from __future__ import annotations

from service.ratelimit import RateLimiter, retry_after_header
from tests.support.fakes import FakeClock


def test_rate_limiter_burst_then_refill_per_key() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_second=0.5, burst=2, clock=clock)

    assert [limiter.acquire("a"), limiter.acquire("a")] == [None, None]
    assert limiter.acquire("a") == 2.0
    assert limiter.acquire("b") is None
    clock.advance(2.0)
    assert limiter.acquire("a") is None


def test_rate_limiter_past_max_keys_forgets_the_longest_idle_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_second=0.001, burst=1, clock=clock, max_keys=2)
    limiter.acquire("old")
    limiter.acquire("recent")
    limiter.acquire("old")  # refused, and now the most recently seen

    limiter.acquire("new")  # a third key: "recent" is dropped, "old" stays refused

    assert limiter.acquire("old") is not None
    assert limiter.acquire("recent") is None


def test_retry_after_header_rounds_up_to_whole_seconds() -> None:
    assert [retry_after_header(0.01), retry_after_header(1.0), retry_after_header(1.2)] == ["1", "1", "2"]
