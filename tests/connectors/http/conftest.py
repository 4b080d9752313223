from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from connectors.http import HttpSession, RateLimiter, RetryPolicy, build_http_client
from tests.support.fakes import FakeClock

BASE_URL = "https://acme.atlassian.net"
WALL_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_000.0)


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_called=False)


@pytest.fixture
def make_session(router: respx.Router, clock: FakeClock) -> Callable[..., HttpSession]:
    def make(**overrides: Any) -> HttpSession:
        options: dict[str, Any] = {
            "base_url": BASE_URL,
            "client": build_http_client(transport=httpx.MockTransport(router.handler)),
            "retry": RetryPolicy(max_attempts=4, sleep=clock.sleep, jitter=lambda low, high: high),
            "limiter": RateLimiter(clock=clock.monotonic, sleep=clock.sleep),
            "now": lambda: WALL_NOW,
        }
        options.update(overrides)
        return HttpSession(**options)

    return make
