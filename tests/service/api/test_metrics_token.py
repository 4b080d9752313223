"""/metrics is open by default and, with PMBRIDGE_METRICS_TOKEN, answers only that bearer token: on
the API and on a worker's own metrics port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.metrics import bearer_matches, serve_metrics
from tests.support.api import make_settings, open_test_api
from tests.support.processes import free_port, wait_until

TOKEN = "scrape-me-7f3a"


@pytest.fixture
def protected(tmp_path: Path) -> Iterator[TestClient]:
    with open_test_api(make_settings(tmp_path, metrics_token=SecretStr(TOKEN))) as client:
        yield client


def test_metrics_without_a_token_setting_is_open(api: TestClient) -> None:
    assert api.get("/metrics").status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer "],
    ids=["none", "wrong", "basic", "empty"],
)
def test_metrics_with_a_token_setting_refuses_anything_else_with_401(
    protected: TestClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = protected.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert b"pmbridge_" not in response.content


def test_metrics_with_a_token_setting_answers_that_bearer(protected: TestClient) -> None:
    response = protected.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert b"pmbridge_" in response.content


def test_worker_metrics_port_with_a_token_answers_only_that_bearer() -> None:
    port = free_port()
    serve_metrics(port=port, host="127.0.0.1", token=TOKEN)
    url = f"http://127.0.0.1:{port}/metrics"
    wait_until(lambda: _answers(url), timeout_s=10, what="the metrics port")

    refused = httpx.get(url)
    served = httpx.get(url, headers={"Authorization": f"bearer {TOKEN}"})

    assert refused.status_code == 401
    assert served.status_code == 200
    assert b"pmbridge_" in served.content


def test_bearer_matches_only_the_exact_token() -> None:
    assert bearer_matches(f"Bearer {TOKEN}", TOKEN)
    assert not bearer_matches(f"Bearer {TOKEN}x", TOKEN)
    assert not bearer_matches(None, TOKEN)


def _answers(url: str) -> bool:
    try:
        httpx.get(url)
    except httpx.TransportError:
        return False
    return True
