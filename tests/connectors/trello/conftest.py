from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.http import CallAccounting, RetryPolicy
from connectors.trello import TrelloAuthForm, TrelloClient, TrelloCredentials, TrelloRateLimiter
from tests.support.fakes import FakeClock

BASE_URL = "https://api.trello.com"
API_KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TOKEN = "ATTAf00dfeedc0ffee" + "9" * 58
APP_SECRET = "app-oauth-secret-5e5e5e"
FIXTURES = Path(__file__).parent / "fixtures"
ClientFactory = Callable[..., TrelloClient]


def _trello_id(seconds: int, counter: int = 0) -> str:
    return f"{seconds:08x}{counter:016x}"


def _action_json(action_id: str, *, action_type: str = "updateCard") -> dict[str, Any]:
    stamp = datetime.fromtimestamp(int(action_id[:8], 16), tz=UTC).isoformat()
    return {
        "id": action_id,
        "type": action_type,
        "date": stamp,
        "idMemberCreator": "5c0ffee00000000000000001",
        "data": {"card": {"id": "65a7d0aa1f2e3d4c5b6a7980", "name": "Launch"}},
    }


@pytest.fixture
def make_id() -> Callable[..., str]:
    """An id created `seconds` after the epoch; ids sort by (seconds, counter)."""
    return _trello_id


@pytest.fixture
def make_action() -> Callable[..., dict[str, Any]]:
    """An action's JSON whose date matches the time embedded in its id."""
    return _action_json


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=0.0)


@pytest.fixture
def limiter(clock: FakeClock) -> TrelloRateLimiter:
    return TrelloRateLimiter(clock=clock.monotonic, sleep=clock.sleep)


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_called=False)


@pytest.fixture
def make_client(router: respx.Router, clock: FakeClock, limiter: TrelloRateLimiter) -> ClientFactory:
    def build(
        *,
        auth_form: TrelloAuthForm = TrelloAuthForm.HEADER,
        token: str = TOKEN,
        shared: TrelloRateLimiter | None = None,
        accounting: CallAccounting | None = None,
        max_attempts: int = 3,
    ) -> TrelloClient:
        return TrelloClient(
            TrelloCredentials(api_key=API_KEY, token=token, auth_form=auth_form),
            transport=httpx.MockTransport(router.handler),
            retry=RetryPolicy(max_attempts=max_attempts, sleep=clock.sleep, jitter=lambda low, high: high),
            limiter=shared or limiter,
            accounting=accounting,
        )

    return build


@pytest.fixture
def client(make_client: ClientFactory) -> TrelloClient:
    return make_client()


@pytest.fixture
def api_fixture() -> Callable[[str], Any]:
    return lambda name: json.loads((FIXTURES / "api" / f"{name}.json").read_text())


@pytest.fixture
def webhook_body() -> Callable[[str], bytes]:
    return lambda name: (FIXTURES / "webhooks" / f"{name}.json").read_bytes()
