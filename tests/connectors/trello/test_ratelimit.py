from __future__ import annotations

import bisect
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from connectors.trello import TrelloClient, TrelloRateLimiter

WINDOW = 10.0
ME = {"id": "5c0ffee00000000000000001"}


def _max_in_window(stamps: list[float]) -> int:
    """Most stamps inside any window (t - 10 s, t], the same bound the limiter enforces."""
    ordered = sorted(stamps)
    return max(
        (bisect.bisect_right(ordered, t) - bisect.bisect_right(ordered, t - WINDOW) for t in ordered),
        default=0,
    )


def test_limiter_interleaved_tokens_never_exceed_token_or_key_window(clock: Any) -> None:
    limiter = TrelloRateLimiter(clock=clock.monotonic, sleep=clock.sleep)
    rng = random.Random(7)
    by_token: dict[str, list[float]] = defaultdict(list)
    by_key: dict[str, list[float]] = defaultdict(list)
    tokens = ["t1", "t2", "t3", "t4", "t5"]

    for _ in range(2_000):
        token = rng.choice(tokens)
        key = "k1" if token != "t5" else "k2"
        cost = rng.choice([1, 1, 1, 10])
        limiter.acquire(key_id=key, token_id=token, cost=cost)
        by_token[token].extend([clock.now] * cost)
        by_key[key].extend([clock.now] * cost)
        clock.now += rng.choice([0.0, 0.001, 0.05])

    assert max(_max_in_window(stamps) for stamps in by_token.values()) <= 100
    assert max(_max_in_window(stamps) for stamps in by_key.values()) <= 300
    assert _max_in_window(by_key["k1"]) == 300


def test_limiter_tokens_of_one_key_share_its_budget(clock: Any) -> None:
    limiter = TrelloRateLimiter(token_limit=100, key_limit=300, clock=clock.monotonic, sleep=clock.sleep)
    for token in ("t1", "t2", "t3"):
        for _ in range(100):
            limiter.acquire(key_id="k", token_id=token)

    limiter.acquire(key_id="k", token_id="t4")

    assert clock.now == pytest.approx(WINDOW)


def test_limiter_other_key_is_not_slowed(clock: Any) -> None:
    limiter = TrelloRateLimiter(token_limit=5, key_limit=5, clock=clock.monotonic, sleep=clock.sleep)
    for _ in range(5):
        limiter.acquire(key_id="k1", token_id="t1")

    limiter.acquire(key_id="k2", token_id="t2")

    assert clock.sleeps == []


@pytest.mark.parametrize("cost", [0, 101], ids=["zero", "above-token-limit"])
def test_limiter_cost_out_of_range_raises(limiter: TrelloRateLimiter, cost: int) -> None:
    with pytest.raises(ValueError, match="cost"):
        limiter.acquire(key_id="k", token_id="t", cost=cost)


def test_client_burst_never_exceeds_100_per_10s_on_the_wire(
    make_client: Callable[..., TrelloClient], router: respx.Router, clock: Any
) -> None:
    sent: list[float] = []

    def answer(_request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        return httpx.Response(200, json=ME)

    router.get("/1/members/me").mock(side_effect=answer)
    client = make_client()

    for _ in range(250):
        client.get_member()

    assert _max_in_window(sent) == 100
    assert clock.now == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("code", "token_blocked", "key_blocked"),
    [
        ("API_TOKEN_LIMIT_EXCEEDED", True, False),
        ("API_TOKEN_DB_LIMIT_EXCEEDED", True, False),
        ("API_KEY_LIMIT_EXCEEDED", False, True),
        (None, True, True),
    ],
    ids=["token", "token-db", "key", "no-code"],
)
def test_limiter_429_blocks_the_exhausted_subject_for_a_window(
    clock: Any, code: str | None, token_blocked: bool, key_blocked: bool
) -> None:
    limiter = TrelloRateLimiter(clock=clock.monotonic, sleep=clock.sleep)
    body = {"error": code, "message": "Rate limit exceeded"} if code else None
    refusal = httpx.Response(429, json=body) if body else httpx.Response(429, text="Too many requests")

    limiter.observe(refusal, key_id="k", token_id="t1")
    limiter.acquire(key_id="k2", token_id="t1")
    after_same_token = clock.now
    limiter.acquire(key_id="k", token_id="t2")
    after_same_key = clock.now

    assert (after_same_token == pytest.approx(WINDOW)) is token_blocked
    assert (after_same_key == pytest.approx(WINDOW)) is (key_blocked or token_blocked)
    if not token_blocked:
        assert after_same_token == 0.0


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [
        ({"x-rate-limit-api-key-remaining": "0", "x-rate-limit-api-key-interval-ms": "10000"}, 10.0),
        ({"x-rate-limit-api-token-remaining": "0", "x-rate-limit-api-token-interval-ms": "4000"}, 4.0),
        ({"x-rate-limit-api-token-remaining": "12", "x-rate-limit-api-key-remaining": "250"}, 0.0),
    ],
    ids=["key-exhausted", "token-exhausted", "budget-left"],
)
def test_limiter_exhausted_remaining_header_pauses_the_next_call(
    clock: Any, headers: dict[str, str], expected_wait: float
) -> None:
    limiter = TrelloRateLimiter(clock=clock.monotonic, sleep=clock.sleep)

    limiter.observe(httpx.Response(200, headers=headers), key_id="k", token_id="t")
    limiter.acquire(key_id="k", token_id="t")

    assert clock.now == pytest.approx(expected_wait)


def test_client_429_on_shared_key_pauses_every_client_of_the_key(
    make_client: Callable[..., TrelloClient], router: respx.Router, clock: Any, limiter: TrelloRateLimiter
) -> None:
    first = make_client(token="ATTA" + "1" * 72, shared=limiter)
    second = make_client(token="ATTA" + "2" * 72, shared=limiter)
    router.get("/1/members/me").mock(
        side_effect=[
            httpx.Response(429, json={"error": "API_KEY_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}),
            httpx.Response(200, json=ME),
            httpx.Response(200, json=ME),
        ]
    )

    first.get_member()
    resumed_at = clock.now
    second.get_member()

    assert resumed_at == pytest.approx(WINDOW)
