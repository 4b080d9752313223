"""A Hypothesis state machine over tenancy: whatever clients, tokens, scopes and events come to exist,
every response holds only the caller's projects, and a revoked token reads nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.support.api import (
    World,
    add_feed_event,
    bearer,
    make_settings,
    open_test_api,
    seed_world,
    store_of,
)

READ_ROUTES = ("/v1/projects", "/v1/milestones", "/v1/commitments", "/v1/risks", "/v1/feed?limit=200")
PROJECT_KEYS = ("ACME", "GLOBEX", "INITECH", "SHARED")


@pytest.fixture(scope="module")
def tenant_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, World]]:
    with open_test_api(make_settings(tmp_path_factory.mktemp("machine"))) as client:
        yield client, seed_world(store_of(client))


def _project_ids(route: str, body: dict[str, list[dict[str, object]]]) -> set[object]:
    if route == "/v1/projects":
        return {p["id"] for p in body["projects"]}
    key = route.removeprefix("/v1/").split("?")[0]
    rows = body["events" if key == "feed" else key]
    return {row["project_id"] for row in rows} - {None}


def test_every_response_holds_only_the_callers_projects(tenant_api: tuple[TestClient, World]) -> None:
    api, world = tenant_api
    admin = bearer(world.admin_token)
    names = itertools.count()

    class Tenancy(RuleBasedStateMachine):
        clients = Bundle("clients")
        tokens = Bundle("tokens")

        def __init__(self) -> None:
            super().__init__()
            self.scopes: dict[int, set[int]] = {}
            self.revoked: set[str] = set()

        @rule(target=clients)
        def create_client(self) -> int:
            response = api.post("/admin/clients", json={"name": f"machine-{next(names)}"}, headers=admin)
            assert response.status_code == 201
            client_id: int = response.json()["id"]
            self.scopes[client_id] = set()
            return client_id

        @rule(target=tokens, client_id=clients)
        def create_token(self, client_id: int) -> tuple[str, int, int]:
            response = api.post("/admin/tokens", json={"name": "t", "client_id": client_id}, headers=admin)
            assert response.status_code == 201
            return response.json()["token"], client_id, response.json()["id"]

        @rule(client_id=clients, key=st.sampled_from(PROJECT_KEYS))
        def add_scope(self, client_id: int, key: str) -> None:
            project_id = world.projects[key]
            response = api.post(
                f"/admin/clients/{client_id}/scopes", json={"project_id": project_id}, headers=admin
            )
            assert response.status_code == (409 if project_id in self.scopes[client_id] else 201)
            self.scopes[client_id].add(project_id)

        @rule(client_id=clients, key=st.sampled_from(PROJECT_KEYS))
        def ingest_event(self, client_id: int, key: str) -> None:
            # A producer may write an event for a project the client lost (or never had): never served.
            add_feed_event(
                store_of(api), client_id=client_id, project_id=world.projects[key], summary=f"e-{key}"
            )

        @rule(token=tokens, route=st.sampled_from(READ_ROUTES))
        def read(self, token: tuple[str, int, int], route: str) -> None:
            secret, client_id, _ = token
            response = api.get(route, headers=bearer(secret))
            if secret in self.revoked:
                assert response.status_code == 401
                return
            assert response.status_code == 200, response.text
            assert _project_ids(route, response.json()) <= self.scopes[client_id]

        @rule(token=consumes(tokens))
        def revoke(self, token: tuple[str, int, int]) -> None:
            secret, _, token_id = token
            assert api.post(f"/admin/tokens/{token_id}/revoke", headers=admin).status_code == 200
            self.revoked.add(secret)
            assert api.get("/v1/projects", headers=bearer(secret)).status_code == 401

        @invariant()
        def seeded_clients_keep_their_own_view(self) -> None:
            projects = api.get("/v1/projects", headers=bearer(world.tokens["initech"])).json()["projects"]
            assert [p["id"] for p in projects] == [world.projects["INITECH"]]

    run_state_machine_as_test(
        Tenancy,
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
