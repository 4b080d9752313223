"""Input no database can hold is refused with 422 before it reaches the store, on both databases:
a NUL character in any JSON string of a write route, in a path or a query, and a report day at the
edge of the calendar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.store.migrate import upgrade_schema
from service.store.runtime import open_store
from tests.support.api import World, bearer, make_settings, open_test_api, seed_world, store_of

NUL = "\u0000"


@pytest.fixture
def dialect_api(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url=database_url)
    migrated = open_store(settings, check_schema=False)
    upgrade_schema(migrated.engine)
    migrated.close()
    with open_test_api(settings) as client:
        yield client


@pytest.fixture
def dialect_world(dialect_api: TestClient) -> World:
    return seed_world(store_of(dialect_api))


def _write_routes(world: World) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(token, method, path, body) of every write route the NUL check must hold for."""
    acme = world.tokens["acme"]
    admin = world.admin_token
    flag_id = next(iter(world.flags.values()))
    project_id = next(iter(world.projects.values()))
    return [
        (acme, "POST", "/v1/feedback", {"subject": "period", "period_start": "2026-09-01",
                                        "period_end": "2026-09-07", "rating": 4, "comment": f"ok{NUL}"}),
        (acme, "POST", "/v1/subscriptions", {"url": f"https://hooks.example.com/{NUL}"}),
        (admin, "POST", "/admin/clients", {"name": f"New{NUL}co"}),
        (admin, "POST", "/admin/tokens", {"name": f"ci{NUL}", "admin": True}),
        (admin, "POST", f"/admin/clients/{world.clients['acme']}/scopes",
         {"project_id": project_id, "rule": "label", "value": f"x{NUL}"}),
        (admin, "POST", "/admin/sources", {"kind": "trello", "name": f"board{NUL}",
                                           "base_url": "https://api.trello.com", "api_key": "k",
                                           "token": "t"}),
        (admin, "POST", f"/admin/flags/{flag_id}/publish", {"client_text": f"Late{NUL}"}),
    ]  # fmt: skip


WRITE_ROUTE_IDS = ["feedback", "subscription", "client", "token", "scope", "source", "publish"]


@pytest.mark.parametrize("index", range(len(WRITE_ROUTE_IDS)), ids=WRITE_ROUTE_IDS)
def test_write_route_nul_in_body_answers_422_on_both_databases(
    dialect_api: TestClient, dialect_world: World, index: int
) -> None:
    token, method, path, body = _write_routes(dialect_world)[index]

    response = dialect_api.request(method, path, json=body, headers=bearer(token))

    assert response.status_code == 422, response.text
    errors = response.json()["error"]["details"]["errors"]
    assert any(e["type"] == "nul_character" for e in errors)


def test_write_route_nul_in_a_key_of_a_nested_value_answers_422(api: TestClient, world: World) -> None:
    body = {"name": ["Newco", {f"k{NUL}": 1}]}

    response = api.post("/admin/clients", json=body, headers=bearer(world.admin_token))

    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["type"] == "nul_character"


def test_write_route_without_nul_is_still_accepted(dialect_api: TestClient, dialect_world: World) -> None:
    response = dialect_api.post(
        "/admin/clients", json={"name": "Newco"}, headers=bearer(dialect_world.admin_token)
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    "url",
    ["/v1/feed?after=%00", "/v1/projects?x=a%00b", "/admin/flags?rule=%00", "/v1/projects/1%00"],
    ids=["feed-cursor", "unknown-param", "admin-filter", "path"],
)
def test_request_nul_in_path_or_query_answers_422_before_any_route(
    dialect_api: TestClient, dialect_world: World, url: str
) -> None:
    token = dialect_world.admin_token if url.startswith("/admin") else dialect_world.tokens["acme"]

    response = dialect_api.get(url, headers=bearer(token))

    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["type"] == "nul_character"
    assert response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "ending", ["9999-12-31", "0001-01-01", "1969-12-31"], ids=["last", "first", "pre-epoch"]
)
def test_digest_ending_outside_the_report_days_answers_422(
    api: TestClient, world: World, ending: str
) -> None:
    response = api.get("/v1/digest", params={"ending": ending}, headers=bearer(world.tokens["acme"]))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


@pytest.mark.parametrize("ending", ["9998-12-31", "1970-01-01"], ids=["latest", "earliest"])
def test_digest_ending_at_the_edges_of_the_report_days_is_served(
    api: TestClient, world: World, ending: str
) -> None:
    for period in ("week", "fortnight", "month"):
        response = api.get(
            "/v1/digest", params={"ending": ending, "period": period}, headers=bearer(world.tokens["acme"])
        )

        assert response.status_code == 200, (period, response.text)
