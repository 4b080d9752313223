"""Request limits: the body cap and the per-token rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.api import World, bearer


@pytest.fixture
def api_overrides() -> dict[str, Any]:
    return {"rate_limit_per_second": 0.01, "rate_limit_burst": 3}


def test_body_over_one_mib_answers_413(api: TestClient, world: World) -> None:
    body = b'{"name": "' + b"x" * (1 << 20) + b'"}'

    response = api.post(
        "/admin/clients",
        content=body,
        headers={**bearer(world.admin_token), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_chunked_body_over_one_mib_answers_413(api: TestClient, world: World) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b"x" * 65_536

    response = api.post("/v1/feedback", content=chunks(), headers=bearer(world.tokens["acme"]))

    assert response.status_code == 413


def test_rate_limit_past_the_burst_answers_429_with_retry_after(api: TestClient, world: World) -> None:
    headers = bearer(world.tokens["acme"])
    statuses = [api.get("/v1/projects", headers=headers).status_code for _ in range(4)]

    limited = api.get("/v1/projects", headers=headers)

    assert statuses == [200, 200, 200, 429]
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1


def test_rate_limit_is_per_token(api: TestClient, world: World) -> None:
    for _ in range(4):
        api.get("/v1/projects", headers=bearer(world.tokens["acme"]))

    response = api.get("/v1/projects", headers=bearer(world.tokens["globex"]))

    assert response.status_code == 200


@pytest.mark.parametrize("limit", [0, 501], ids=["zero", "over-cap"])
def test_admin_page_size_outside_the_cap_answers_422(api: TestClient, world: World, limit: int) -> None:
    response = api.get("/admin/clients", params={"limit": limit}, headers=bearer(world.admin_token))

    assert response.status_code == 422
