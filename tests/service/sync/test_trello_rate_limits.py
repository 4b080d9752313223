"""A full sync of 20 boards of 500 cards never draws a 429 from the sandbox's Trello rate limits.

Client and sandbox pace on one fake monotonic clock that moves only when the client waits, so the
real limits (100 requests / 10 s per token, 300 per key, batch URLs counted one by one) apply
without the test waiting for them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from connectors.trello import TRELLO_TOKEN_LIMIT
from sandbox.app import Sandbox
from sandbox.trello.ratelimit import RateDecision, TrelloRateLimiter, TrelloRateLimits
from sandbox.trello.scenario import populate_trello
from sandbox.trello.state import TrelloWorld
from service.store.runtime import Store
from service.sync.runs import sync_source_now
from tests.support.fakes import FakeClock
from tests.support.trello_sandbox import (
    TrelloSandbox,
    local_snapshot,
    serve_trello_sandbox,
    trello_limiter_on,
)

BOARDS = 20
CARDS_PER_BOARD = 500


class RefusalCountingLimiter(TrelloRateLimiter):
    def __init__(self, limits: TrelloRateLimits, *, clock: FakeClock) -> None:
        super().__init__(limits, now=clock.monotonic)
        self.refusals: list[str] = []
        self.requests = 0

    def check(self, *, key: str, token: str, member_route: bool = False, cost: int = 1) -> RateDecision:
        decision = super().check(key=key, token=token, member_route=member_route, cost=cost)
        self.requests += cost
        if decision.error is not None:
            self.refusals.append(decision.error)
        return decision


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def large_sandbox(clock: FakeClock) -> Iterator[TrelloSandbox]:
    def build(sandbox: Sandbox) -> None:
        world = TrelloWorld(
            clock=sandbox.clock,
            sink=lambda _delivery: None,
            api_key=sandbox.trello_api_key,
            token=sandbox.trello_token,
            app_secret=sandbox.trello_app_secret,
        )
        populate_trello(
            world,
            random.Random(11),
            clients=["Acme Retail", "Borealis Health", "Cobalt Logistics", "Driftwood Media"],
            boards=BOARDS,
            cards_per_board=CARDS_PER_BOARD,
            days_of_history=60,
        )
        world.rate_limiter = RefusalCountingLimiter(TrelloRateLimits(count_batch_urls=True), clock=clock)
        sandbox.trello = world

    with serve_trello_sandbox("tiny", seed=5, build=build) as sandbox:
        yield sandbox


def test_full_sync_of_20_boards_never_exceeds_the_rate_limits(
    store: Store, large_sandbox: TrelloSandbox, clock: FakeClock
) -> None:
    limiter = large_sandbox.world.rate_limiter
    assert isinstance(limiter, RefusalCountingLimiter)
    source_id = large_sandbox.add_source(store)

    summary = sync_source_now(store, source_id=source_id, full=True, trello_limiter=trello_limiter_on(clock))

    assert summary.status == "succeeded"
    assert limiter.refusals == []
    # The budget was binding: more requests than one window allows, spread by waiting.
    assert limiter.requests > TRELLO_TOKEN_LIMIT
    assert clock.slept > 0
    assert local_snapshot(store, source_id) == large_sandbox.snapshot()
