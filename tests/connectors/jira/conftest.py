from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.http import RateLimiter, RetryPolicy
from connectors.jira import JiraClient, JiraSite
from tests.support.fakes import FakeClock

CLOUD_URL = "https://acme.atlassian.net"
DC_URL = "https://jira.acme.test/jira"
EMAIL = "bot@acme.example"
API_TOKEN = "cloud-api-token-xyz"
PAT = "dc-personal-access-token-abc"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=0.0)


def _client(site: JiraSite, router: respx.Router, clock: FakeClock) -> JiraClient:
    return JiraClient(
        site,
        transport=httpx.MockTransport(router.handler),
        retry=RetryPolicy(max_attempts=3, sleep=clock.sleep, jitter=lambda low, high: high),
        limiter=RateLimiter(clock=clock.monotonic, sleep=clock.sleep),
    )


@pytest.fixture
def cloud_router() -> respx.Router:
    return respx.Router(base_url=CLOUD_URL, assert_all_called=False)


@pytest.fixture
def dc_router() -> respx.Router:
    return respx.Router(base_url=DC_URL, assert_all_called=False)


@pytest.fixture
def cloud(cloud_router: respx.Router, clock: FakeClock) -> JiraClient:
    return _client(JiraSite.cloud_basic(CLOUD_URL, email=EMAIL, api_token=API_TOKEN), cloud_router, clock)


@pytest.fixture
def dc(dc_router: respx.Router, clock: FakeClock) -> JiraClient:
    return _client(JiraSite.data_center(DC_URL, personal_access_token=PAT), dc_router, clock)


@pytest.fixture
def make_client(clock: FakeClock) -> Callable[[JiraSite, respx.Router], JiraClient]:
    return lambda site, router: _client(site, router, clock)


@pytest.fixture
def api_fixture() -> Callable[[str], Any]:
    return lambda name: json.loads((FIXTURES / "api" / f"{name}.json").read_text())


@pytest.fixture
def webhook_body() -> Callable[[str], bytes]:
    return lambda name: (FIXTURES / "webhooks" / f"{name}.json").read_bytes()
