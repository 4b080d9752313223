"""Object-level authorization: every route with an object id, under each of three clients' tokens.

A client reads its own objects; another client's object answers 404, the same as one that does not
exist; and no list ever holds another client's rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.api import CLIENTS, World, bearer, make_settings, open_test_api, seed_world, store_of

PROJECT_KEYS = ("ACME", "GLOBEX", "INITECH", "SHARED")
# (route, which object of a project it names)
OBJECT_ROUTES = (
    ("/v1/projects/{project}", "project"),
    ("/v1/milestones/{milestone}", "milestone"),
    ("/v1/commitments/{item_commitment}", "item_commitment"),
    ("/v1/commitments/{milestone_commitment}", "milestone_commitment"),
    ("/v1/milestones?project_id={project}", "project"),
    ("/v1/commitments?project_id={project}", "project"),
    ("/v1/risks?project_id={project}", "project"),
    ("/v1/kpis?project_id={project}", "project"),
)
LIST_ROUTES = ("/v1/projects", "/v1/milestones", "/v1/commitments", "/v1/risks")


@pytest.fixture(scope="module")
def tenant_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, World]]:
    with open_test_api(make_settings(tmp_path_factory.mktemp("tenants"))) as client:
        yield client, seed_world(store_of(client))


def _url(route: str, world: World, key: str) -> str:
    return route.format(
        project=world.projects[key],
        milestone=world.milestones[key],
        item_commitment=world.commitments[f"{key}-item"],
        milestone_commitment=world.commitments[f"{key}-milestone"],
    )


@pytest.mark.parametrize("caller", CLIENTS, ids=CLIENTS)
@pytest.mark.parametrize("owner", PROJECT_KEYS, ids=[k.lower() for k in PROJECT_KEYS])
@pytest.mark.parametrize("route", [r for r, _ in OBJECT_ROUTES], ids=[r for r, _ in OBJECT_ROUTES])
def test_object_route_foreign_object_answers_404(
    tenant_api: tuple[TestClient, World], caller: str, owner: str, route: str
) -> None:
    api, world = tenant_api

    response = api.get(_url(route, world, owner), headers=bearer(world.tokens[caller]))

    if owner in world.visible_projects[caller]:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("caller", CLIENTS, ids=CLIENTS)
@pytest.mark.parametrize("route", LIST_ROUTES, ids=LIST_ROUTES)
def test_list_route_holds_only_the_callers_projects(
    tenant_api: tuple[TestClient, World], caller: str, route: str
) -> None:
    api, world = tenant_api
    own = {world.projects[key] for key in world.visible_projects[caller]}

    body = api.get(route, headers=bearer(world.tokens[caller])).json()

    rows = next(value for key, value in body.items() if key != "freshness")
    project_ids = {row.get("project_id", row.get("id")) for row in rows}
    assert rows
    assert project_ids <= own


@pytest.mark.parametrize("caller", CLIENTS, ids=CLIENTS)
def test_feed_holds_only_the_callers_events(tenant_api: tuple[TestClient, World], caller: str) -> None:
    api, world = tenant_api

    events = api.get("/v1/feed", params={"limit": 200}, headers=bearer(world.tokens[caller])).json()["events"]

    assert [e["id"] for e in events] == world.events[caller]


@pytest.mark.parametrize("caller", CLIENTS, ids=CLIENTS)
@pytest.mark.parametrize("owner", CLIENTS, ids=CLIENTS)
def test_feedback_on_an_event_of_another_client_answers_404(
    tenant_api: tuple[TestClient, World], caller: str, owner: str
) -> None:
    api, world = tenant_api
    body = {"subject": "event", "subject_id": world.events[owner][0], "rating": 3}

    response = api.post("/v1/feedback", json=body, headers=bearer(world.tokens[caller]))

    assert response.status_code == (201 if caller == owner else 404)


@pytest.mark.parametrize("caller", CLIENTS, ids=CLIENTS)
@pytest.mark.parametrize("owner", PROJECT_KEYS, ids=[k.lower() for k in PROJECT_KEYS])
def test_feedback_on_a_milestone_outside_the_scope_answers_404(
    tenant_api: tuple[TestClient, World], caller: str, owner: str
) -> None:
    api, world = tenant_api
    body = {"subject": "milestone", "subject_id": world.milestones[owner], "rating": 2}

    response = api.post("/v1/feedback", json=body, headers=bearer(world.tokens[caller]))

    assert response.status_code == (201 if owner in world.visible_projects[caller] else 404)


def test_label_scope_hides_commitments_on_unlabelled_items(tenant_api: tuple[TestClient, World]) -> None:
    api, world = tenant_api
    url = f"/v1/commitments/{world.commitments['SHARED-internal']}"

    hidden = api.get(url, headers=bearer(world.tokens["acme"]))
    shown = api.get(url, headers=bearer(world.tokens["globex"]))

    assert (hidden.status_code, shown.status_code) == (404, 200)


def test_missing_object_answers_like_a_foreign_one(tenant_api: tuple[TestClient, World]) -> None:
    api, world = tenant_api

    missing = api.get("/v1/projects/999999", headers=bearer(world.tokens["acme"]))
    foreign = api.get(f"/v1/projects/{world.projects['INITECH']}", headers=bearer(world.tokens["acme"]))

    assert missing.json()["error"]["code"] == foreign.json()["error"]["code"] == "not_found"
    assert missing.status_code == foreign.status_code == 404
