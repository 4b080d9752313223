"""GET /v1/digest: the caller's digest as Markdown or HTML, scoped like every client route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.api import World, bearer, make_settings, open_test_api, seed_world, store_of

ENDED = "ending=2026-09-14&period=fortnight"


@pytest.fixture(scope="module")
def digest_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, World]]:
    with open_test_api(make_settings(tmp_path_factory.mktemp("digest-api"))) as client:
        yield client, seed_world(store_of(client))


def test_get_digest_default_is_markdown(digest_api: tuple[TestClient, World]) -> None:
    api, world = digest_api

    response = api.get(f"/v1/digest?{ENDED}", headers=bearer(world.tokens["acme"]))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.text.startswith("# Your fortnightly update, acme")
    assert "ACME-1 Title of ACME-1 (2026-09-04)" in response.text


def test_get_digest_html_format_is_html(digest_api: tuple[TestClient, World]) -> None:
    api, world = digest_api

    response = api.get(f"/v1/digest?{ENDED}&format=html", headers=bearer(world.tokens["acme"]))

    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1" in response.text
    assert "http://testserver/portal/rate?subject=milestone&amp;id=" in response.text


@pytest.mark.parametrize("caller", ["globex", "initech"], ids=["globex", "initech"])
def test_get_digest_holds_only_callers_projects(digest_api: tuple[TestClient, World], caller: str) -> None:
    api, world = digest_api

    text = api.get(f"/v1/digest?{ENDED}", headers=bearer(world.tokens[caller])).text

    assert "ACME" not in text


def test_get_digest_repeated_with_etag_is_not_modified(digest_api: tuple[TestClient, World]) -> None:
    api, world = digest_api
    first = api.get(f"/v1/digest?{ENDED}", headers=bearer(world.tokens["acme"]))

    again = api.get(
        f"/v1/digest?{ENDED}",
        headers={**bearer(world.tokens["acme"]), "If-None-Match": first.headers["etag"]},
    )

    assert again.status_code == 304


@pytest.mark.parametrize(
    ("query", "status"),
    [("period=year", 422), ("format=pdf", 422), ("ending=yesterday", 422)],
    ids=["unknown-period", "unknown-format", "bad-date"],
)
def test_get_digest_invalid_query_refused(
    digest_api: tuple[TestClient, World], query: str, status: int
) -> None:
    api, world = digest_api

    assert api.get(f"/v1/digest?{query}", headers=bearer(world.tokens["acme"])).status_code == status


def test_get_digest_admin_token_refused(digest_api: tuple[TestClient, World]) -> None:
    api, world = digest_api

    assert api.get("/v1/digest", headers=bearer(world.admin_token)).status_code == 403
