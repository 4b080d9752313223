"""Admin routes for sources, projects, sync runs, flags and dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.store.orm import InboxRow, SourceRow, SyncRunRow
from tests.support.api import World, bearer, make_settings, open_test_api, seed_world, store_of
from tests.support.fakes import RecordingEnqueuer
from tests.support.jira_sandbox import serve_jira_sandbox

CLOUD_SOURCE = {
    "kind": "jira_cloud",
    "name": "new-site",
    "base_url": "https://8.8.8.8/",
    "email": "ops@example.com",
    "api_token": "brand-new-api-token-secret",
    "webhook_secret": "brand-new-webhook-secret",
    "project_keys": ["web"],
}


@pytest.fixture
def enqueuer() -> RecordingEnqueuer:
    return RecordingEnqueuer()


def _admin(world: World) -> dict[str, str]:
    return bearer(world.admin_token)


def test_sources_created_source_never_returns_its_secrets(api: TestClient, world: World) -> None:
    created = api.post("/admin/sources", json=CLOUD_SOURCE, headers=_admin(world))
    listed = api.get("/admin/sources", headers=_admin(world))

    assert created.status_code == 201, created.text
    assert created.json()["has_webhook_secret"] is True
    assert created.json()["project_keys"] == ["WEB"]
    for response in (created, listed):
        assert "brand-new-api-token-secret" not in response.text
        assert "brand-new-webhook-secret" not in response.text


def test_sources_credentials_are_encrypted_at_rest(api: TestClient, world: World) -> None:
    source_id = api.post("/admin/sources", json=CLOUD_SOURCE, headers=_admin(world)).json()["id"]

    with store_of(api).sessions() as session:
        row = session.get_one(SourceRow, source_id)

    assert b"brand-new-api-token-secret" not in row.credentials_encrypted
    assert row.webhook_secret_encrypted is not None
    assert b"brand-new-webhook-secret" not in row.webhook_secret_encrypted


@pytest.mark.parametrize(
    "base_url",
    [
        "http://8.8.8.8",
        "https://user:pw@8.8.8.8",
        "https://127.0.0.1",
        "https://localhost:8443",
        "https://169.254.169.254/latest",
        "https://10.1.2.3",
        "https://[::1]",
        "https://[::ffff:192.168.0.1]",
        "https://metadata.google.internal",
        "https://8.8.8.8/?next=x",
    ],
    ids=[
        "http",
        "userinfo",
        "loopback",
        "localhost",
        "metadata",
        "private",
        "ipv6-loopback",
        "mapped-private",
        "gcp-metadata",
        "query",
    ],
)
def test_sources_unsafe_base_url_answers_400(api: TestClient, world: World, base_url: str) -> None:
    response = api.post("/admin/sources", json={**CLOUD_SOURCE, "base_url": base_url}, headers=_admin(world))

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "base_url"


def test_sources_kind_decides_the_credentials(api: TestClient, world: World) -> None:
    body = {**CLOUD_SOURCE, "kind": "trello"}

    response = api.post("/admin/sources", json=body, headers=_admin(world))

    assert response.status_code == 422


TRELLO_SOURCE = {
    "kind": "trello",
    "name": "agency-trello",
    "base_url": "https://8.8.8.8/",
    "api_key": "trello-api-key",
    "token": "trello-token-secret",
}


def test_sources_trello_effort_fields_are_recorded_and_shown(api: TestClient, world: World) -> None:
    body = {**TRELLO_SOURCE, "spent_field": "Time spent (h)", "estimate_field": "Estimate (h)"}

    created = api.post("/admin/sources", json=body, headers=_admin(world))

    assert created.status_code == 201, created.text
    assert (created.json()["spent_field"], created.json()["estimate_field"]) == (
        "Time spent (h)",
        "Estimate (h)",
    )
    with store_of(api).sessions() as session:
        settings = session.get_one(SourceRow, created.json()["id"]).settings
    assert (settings["spent_field"], settings["estimate_field"]) == ("Time spent (h)", "Estimate (h)")


def test_sources_without_effort_fields_show_none(api: TestClient, world: World) -> None:
    created = api.post("/admin/sources", json=TRELLO_SOURCE, headers=_admin(world)).json()

    assert (created["spent_field"], created["estimate_field"]) == (None, None)


@pytest.mark.parametrize(
    "body",
    [
        {**TRELLO_SOURCE, "spent_field": ""},
        {**TRELLO_SOURCE, "estimate_field": " Estimate"},
        {**TRELLO_SOURCE, "spent_field": "x" * 201},
        {**CLOUD_SOURCE, "spent_field": "Time spent (h)"},
    ],
    ids=["empty", "padded", "too-long", "not-trello"],
)
def test_sources_bad_effort_field_answers_422_with_the_field(
    api: TestClient, world: World, body: dict[str, object]
) -> None:
    response = api.post("/admin/sources", json=body, headers=_admin(world))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert {problem["location"][-1] for problem in error["details"]["errors"]} <= {
        "spent_field",
        "estimate_field",
    }


def test_sources_connection_test_against_the_sandbox_succeeds(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, allow_private_source_urls=True)
    with serve_jira_sandbox("tiny", seed=7) as jira, open_test_api(settings) as api:
        world = seed_world(store_of(api))
        body = {
            **CLOUD_SOURCE,
            "base_url": jira.base_url,
            "email": jira.sandbox.jira_email,
            "api_token": jira.sandbox.jira_api_token,
        }
        source_id = api.post("/admin/sources", json=body, headers=_admin(world)).json()["id"]

        result = api.post(f"/admin/sources/{source_id}/test", headers=_admin(world))

    assert result.json()["ok"] is True, result.text


def test_sources_connection_test_unreachable_reports_failure(tmp_path: Path) -> None:
    with open_test_api(make_settings(tmp_path, allow_private_source_urls=True)) as api:
        world = seed_world(store_of(api))
        body = {**CLOUD_SOURCE, "base_url": "http://127.0.0.1:1"}
        source_id = api.post("/admin/sources", json=body, headers=_admin(world)).json()["id"]

        result = api.post(f"/admin/sources/{source_id}/test", headers=_admin(world))

    assert result.status_code == 200
    assert result.json()["ok"] is False


def test_sources_connection_test_refuses_a_private_url_stored_before(api: TestClient, world: World) -> None:
    with store_of(api).sessions() as session, session.begin():
        session.get_one(SourceRow, world.source_id).base_url = "https://127.0.0.1"

    result = api.post(f"/admin/sources/{world.source_id}/test", headers=_admin(world))

    assert (
        result.json() == {"ok": False, "detail": "the base URL must use https"}
        or result.json()["ok"] is False
    )


def test_sources_sync_is_queued(api: TestClient, world: World, enqueuer: RecordingEnqueuer) -> None:
    response = api.post(f"/admin/sources/{world.source_id}/sync", headers=_admin(world))

    assert response.status_code == 202
    assert enqueuer.syncs == [world.source_id]


def test_sync_runs_listed_newest_first(api: TestClient, world: World) -> None:
    with store_of(api).sessions() as session, session.begin():
        for kind in ("full", "census"):
            session.add(
                SyncRunRow(
                    source_id=world.source_id,
                    kind=kind,
                    status="succeeded",
                    started_at=datetime.now(UTC),
                    api_calls={},
                    errors=[],
                )
            )

    runs = api.get("/admin/sync-runs", params={"source_id": world.source_id}, headers=_admin(world)).json()

    assert [r["kind"] for r in runs] == ["census", "full"]


def test_projects_listed_for_the_operator(api: TestClient, world: World) -> None:
    projects = api.get("/admin/projects", headers=_admin(world)).json()

    assert {p["key"] for p in projects} == {"ACME", "GLOBEX", "INITECH", "SHARED"}


def test_flags_publish_shows_the_wording_to_clients(api: TestClient, world: World) -> None:
    flag_id = world.flags["INITECH-unpublished"]

    published = api.post(
        f"/admin/flags/{flag_id}/publish", json={"client_text": "Login may slip"}, headers=_admin(world)
    )

    assert published.json()["published"] is True
    risks = api.get("/v1/risks", headers=bearer(world.tokens["initech"])).json()["risks"]
    assert "Login may slip" in [r["text"] for r in risks]


def test_flags_keep_internal_hides_it_from_clients(api: TestClient, world: World) -> None:
    flag_id = world.flags["INITECH-project"]

    api.post(f"/admin/flags/{flag_id}/keep-internal", headers=_admin(world))

    risks = api.get("/v1/risks", headers=bearer(world.tokens["initech"])).json()["risks"]
    assert flag_id not in [r["id"] for r in risks]


def test_flags_listed_with_filters(api: TestClient, world: World) -> None:
    flags = api.get("/admin/flags", params={"published": "false"}, headers=_admin(world)).json()

    assert {f["id"] for f in flags} == {
        world.flags[f"{k}-unpublished"] for k in ("ACME", "GLOBEX", "INITECH", "SHARED")
    }


def test_dead_letters_retry_requeues_the_delivery(
    api: TestClient, world: World, enqueuer: RecordingEnqueuer
) -> None:
    with store_of(api).sessions() as session, session.begin():
        row = InboxRow(
            source_id=world.source_id,
            delivery_id="d-9",
            event_type="jira:issue_updated",
            body=b"{}",
            received_at=datetime.now(UTC),
            status="dead",
            attempts=5,
            last_error="boom",
        )
        session.add(row)
        session.flush()
        inbox_id = row.id

    listed = api.get("/admin/dead-letters", headers=_admin(world)).json()
    retried = api.post(f"/admin/dead-letters/{inbox_id}/retry", headers=_admin(world))

    assert [d["id"] for d in listed] == [inbox_id]
    assert retried.status_code == 202
    assert enqueuer.deliveries == [inbox_id]
    with store_of(api).sessions() as session:
        assert session.scalars(select(InboxRow.status).where(InboxRow.id == inbox_id)).one() == "pending"


def test_dead_letters_retry_of_a_live_delivery_answers_404(api: TestClient, world: World) -> None:
    response = api.post("/admin/dead-letters/12345/retry", headers=_admin(world))

    assert response.status_code == 404
