"""Admin routes for clients, scopes and tokens, and what tokens then allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.domain.enums import ItemKind, StatusCategory
from service.domain.work import WorkItem
from service.store.db import transaction
from service.store.items import upsert_work_items
from service.store.orm import ApiTokenRow
from tests.support.api import World, bearer, store_of


def _admin(world: World) -> dict[str, str]:
    return bearer(world.admin_token)


def _new_client_token(
    api: TestClient, world: World, name: str = "umbrella", **token: object
) -> tuple[int, str, int]:
    client_id = api.post("/admin/clients", json={"name": name}, headers=_admin(world)).json()["id"]
    created = api.post(
        "/admin/tokens", json={"name": "portal", "client_id": client_id, **token}, headers=_admin(world)
    )
    assert created.status_code == 201, created.text
    return client_id, created.json()["token"], created.json()["id"]


def test_clients_add_then_list(api: TestClient, world: World) -> None:
    created = api.post("/admin/clients", json={"name": "umbrella"}, headers=_admin(world))

    listed = api.get("/admin/clients", headers=_admin(world))

    assert created.status_code == 201
    assert "umbrella" in [c["name"] for c in listed.json()]


def test_clients_duplicate_name_answers_409(api: TestClient, world: World) -> None:
    response = api.post("/admin/clients", json={"name": "acme"}, headers=_admin(world))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_clients_unknown_field_is_refused(api: TestClient, world: World) -> None:
    response = api.post("/admin/clients", json={"name": "umbrella", "id": 1}, headers=_admin(world))

    assert response.status_code == 422


def test_tokens_created_token_reads_the_new_scope(api: TestClient, world: World) -> None:
    client_id, token, _ = _new_client_token(api, world)
    scoped = api.post(
        f"/admin/clients/{client_id}/scopes",
        json={"project_id": world.projects["INITECH"]},
        headers=_admin(world),
    )

    projects = api.get("/v1/projects", headers=bearer(token)).json()["projects"]

    assert scoped.status_code == 201
    assert [p["key"] for p in projects] == ["INITECH"]
    assert token.startswith("pmb_")


def test_tokens_only_the_hash_is_stored(api: TestClient, world: World) -> None:
    _, token, token_id = _new_client_token(api, world)

    with store_of(api).sessions() as session:
        row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.id == token_id)).one()

    assert token not in (row.token_hash, row.prefix)
    assert token.startswith(row.prefix)


def test_tokens_listing_never_shows_the_secret(api: TestClient, world: World) -> None:
    _, token, _ = _new_client_token(api, world)

    listing = api.get("/admin/tokens", headers=_admin(world))

    assert token not in listing.text
    assert all("token" not in row for row in listing.json())


def test_tokens_revoked_token_answers_401(api: TestClient, world: World) -> None:
    headers = bearer(world.tokens["acme"])
    assert api.get("/v1/projects", headers=headers).status_code == 200

    revoked = api.post(f"/admin/tokens/{world.token_ids['acme']}/revoke", headers=_admin(world))

    assert revoked.json()["revoked_at"] is not None
    response = api.get("/v1/projects", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_tokens_expired_token_answers_401(api: TestClient, world: World) -> None:
    # Valid when created, however slow the machine; then made to have expired.
    later = datetime.now(UTC) + timedelta(hours=1)
    _, token, token_id = _new_client_token(api, world, expires_at=later.isoformat())
    with store_of(api).sessions() as session, session.begin():
        session.get_one(ApiTokenRow, token_id).expires_at = datetime.now(UTC) - timedelta(seconds=1)

    response = api.get("/v1/projects", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "the token has expired"


def test_tokens_use_records_last_used_time_in_the_next_batch(api: TestClient, world: World) -> None:
    api.get("/v1/projects", headers=bearer(world.tokens["acme"]))
    assert api.app.state.authenticator.last_use.flush() >= 1  # type: ignore[attr-defined]

    tokens = api.get("/admin/tokens", headers=_admin(world)).json()

    used = {t["name"]: t["last_used_at"] for t in tokens}
    assert used["acme"] is not None
    assert used["globex"] is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer pmb_not-a-token"},
        {"Authorization": "Bearer x"},
    ],
    ids=["none", "basic", "unknown", "not-pmb"],
)
def test_auth_missing_or_bad_token_answers_401(
    api: TestClient, world: World, headers: dict[str, str]
) -> None:
    response = api.get("/v1/projects", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_tokens_client_and_admin_together_are_refused(api: TestClient, world: World) -> None:
    body = {"name": "x", "client_id": world.clients["acme"], "admin": True}

    response = api.post("/admin/tokens", json=body, headers=_admin(world))

    assert response.status_code == 422


def test_scopes_filter_selects_items(api: TestClient, world: World) -> None:
    client_id, token, _ = _new_client_token(api, world)
    api.post(
        f"/admin/clients/{client_id}/scopes",
        json={
            "project_id": world.projects["GLOBEX"],
            "rule": "filter",
            "value": "label:client -category:done",
        },
        headers=_admin(world),
    )

    project = api.get("/v1/projects", headers=bearer(token)).json()["projects"][0]

    assert project["progress"] == {"done": 0, "total": 1, "todo": 0, "in_progress": 1}


def test_scopes_invalid_filter_answers_400(api: TestClient, world: World) -> None:
    response = api.post(
        f"/admin/clients/{world.clients['acme']}/scopes",
        json={"project_id": world.projects["INITECH"], "rule": "filter", "value": "colour:red"},
        headers=_admin(world),
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_scopes_removed_project_disappears_from_reads(api: TestClient, world: World) -> None:
    scopes = api.get(f"/admin/clients/{world.clients['globex']}/scopes", headers=_admin(world)).json()
    shared = next(s for s in scopes if s["project_id"] == world.projects["SHARED"])

    removed = api.delete(
        f"/admin/clients/{world.clients['globex']}/scopes/{shared['id']}", headers=_admin(world)
    )

    assert removed.status_code == 204
    feed = api.get("/v1/feed", headers=bearer(world.tokens["globex"])).json()["events"]
    assert {e["project_id"] for e in feed} == {world.projects["GLOBEX"]}


def test_clients_removed_client_token_stops_working(api: TestClient, world: World) -> None:
    response = api.delete(f"/admin/clients/{world.clients['initech']}", headers=_admin(world))

    assert response.status_code == 204
    assert api.get("/v1/projects", headers=bearer(world.tokens["initech"])).status_code == 401


def _recently_done(api: TestClient, world: World, *labelled: tuple[str, str]) -> None:
    """SHARED items done two days ago in milestone SHARED 1.0, one per (key, label)."""
    done_at = datetime.now(UTC) - timedelta(days=2)
    with transaction(store_of(api).sessions) as session:
        upsert_work_items(
            session,
            source_id=world.source_id,
            items=[
                WorkItem(
                    source_id=world.source_id,
                    project_external_id="SHARED",
                    external_id=f"x-{key}",
                    key=key,
                    title=f"Title of {key}",
                    kind=ItemKind.STORY,
                    status="done",
                    status_category=StatusCategory.DONE,
                    labels=(label,),
                    milestone_external_ids=("m-SHARED",),
                    created_at=done_at - timedelta(days=5),
                    updated_at=done_at,
                    resolved_at=done_at,
                )
                for key, label in labelled
            ],
        )


def _scope(api: TestClient, world: World, client_id: int, **body: object) -> int:
    response = api.post(
        f"/admin/clients/{client_id}/scopes",
        json={"project_id": world.projects["SHARED"], **body},
        headers=_admin(world),
    )
    assert response.status_code == 201, response.text
    scope_id: int = response.json()["id"]
    return scope_id


def _summaries(api: TestClient, token: str) -> list[str]:
    return [e["summary"] for e in api.get("/v1/feed", headers=bearer(token)).json()["events"]]


def test_scopes_new_scope_shows_history_progress_and_promises_at_once(api: TestClient, world: World) -> None:
    _recently_done(api, world, ("SHARED-8", "client"), ("SHARED-9", "internal"))
    client_id, token, _ = _new_client_token(api, world)

    _scope(api, world, client_id, rule="label", value="client")

    summaries = _summaries(api, token)
    assert "SHARED-8 done: Title of SHARED-8" in summaries
    assert "SHARED 1.0: 2 of 3 done" in summaries
    assert not any("SHARED-9" in s or "of 4" in s for s in summaries)
    project = api.get("/v1/projects", headers=bearer(token)).json()["projects"][0]
    assert project["milestones"][0]["progress"]["done"] == 2
    commitments = api.get("/v1/commitments", headers=bearer(token)).json()["commitments"]
    assert {c["id"] for c in commitments} == {
        world.commitments["SHARED-item"],
        world.commitments["SHARED-milestone"],
    }


def test_scopes_narrowed_scope_withdraws_what_it_no_longer_covers(api: TestClient, world: World) -> None:
    _recently_done(api, world, ("SHARED-8", "client"), ("SHARED-9", "internal"))
    client_id, token, _ = _new_client_token(api, world)
    everything = _scope(api, world, client_id)
    assert {"SHARED-9 done: Title of SHARED-9", "SHARED 1.0: 3 of 4 done"} <= set(_summaries(api, token))

    api.delete(f"/admin/clients/{client_id}/scopes/{everything}", headers=_admin(world))
    _scope(api, world, client_id, rule="filter", value="label:client")

    summaries = _summaries(api, token)
    assert not any("SHARED-9" in s or "of 4" in s for s in summaries)
    assert summaries[-1] == "SHARED 1.0: 2 of 3 done"
