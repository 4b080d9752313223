from __future__ import annotations

from sandbox.trello.ratelimit import TrelloRateLimiter, TrelloRateLimits


class FakeSeconds:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def _spend(limiter: TrelloRateLimiter, token: str, times: int) -> list[str | None]:
    return [limiter.check(key="k", token=token).error for _ in range(times)]


def test_ratelimit_101st_request_of_a_token_in_10s_is_refused() -> None:
    limiter = TrelloRateLimiter(now=FakeSeconds())
    errors = _spend(limiter, "t1", 101)
    assert errors[:100] == [None] * 100
    assert errors[100] == "API_TOKEN_LIMIT_EXCEEDED"


def test_ratelimit_301st_request_of_a_key_across_tokens_is_refused() -> None:
    limiter = TrelloRateLimiter(now=FakeSeconds())
    for token in ("t1", "t2", "t3"):
        assert _spend(limiter, token, 100) == [None] * 100
    assert limiter.check(key="k", token="t4").error == "API_KEY_LIMIT_EXCEEDED"


def test_ratelimit_window_reopens_after_the_interval() -> None:
    seconds = FakeSeconds()
    limiter = TrelloRateLimiter(now=seconds)
    _spend(limiter, "t1", 100)
    seconds.value += 10.0
    decision = limiter.check(key="k", token="t1")
    assert decision.error is None
    assert decision.headers["x-rate-limit-api-token-remaining"] == "99"


def test_ratelimit_window_still_closed_just_before_the_interval() -> None:
    seconds = FakeSeconds()
    limiter = TrelloRateLimiter(now=seconds)
    _spend(limiter, "t1", 100)
    seconds.value += 9.9
    assert limiter.check(key="k", token="t1").error == "API_TOKEN_LIMIT_EXCEEDED"


def test_ratelimit_more_than_200_refusals_lock_the_key_for_the_window() -> None:
    limiter = TrelloRateLimiter(TrelloRateLimits(token_max=1), now=FakeSeconds())
    _spend(limiter, "t1", 202)  # 1 allowed, 201 refused
    assert limiter.check(key="k", token="fresh").error == "API_KEY_LIMIT_EXCEEDED"


def test_ratelimit_members_route_has_its_own_900s_limit() -> None:
    limiter = TrelloRateLimiter(TrelloRateLimits(member_max=2), now=FakeSeconds())
    errors = [limiter.check(key="k", token="t1", member_route=True).error for _ in range(3)]
    assert errors == [None, None, "MEMBER_LIMIT_EXCEEDED"]


def test_ratelimit_tuned_limits_show_in_headers() -> None:
    limiter = TrelloRateLimiter(TrelloRateLimits(token_max=5, key_max=7), now=FakeSeconds())
    headers = limiter.check(key="k", token="t1").headers
    assert headers["x-rate-limit-api-token-max"] == "5"
    assert headers["x-rate-limit-api-key-remaining"] == "6"


def test_ratelimit_disabled_allows_everything() -> None:
    limiter = TrelloRateLimiter(TrelloRateLimits(token_max=1), enabled=False, now=FakeSeconds())
    assert _spend(limiter, "t1", 5) == [None] * 5
