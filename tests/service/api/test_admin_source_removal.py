"""Removing a source through the admin API: what it deletes is shown first, the removal deletes
exactly that, and the clients' published history follows docs/ARCHITECTURE.md ("Removing a
source"): events a client still sees stay, detached from the removed projects; events it no longer
saw are withdrawn."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from connectors.http import RetryPolicy
from service.domain.enums import SourceKind
from service.flags.push import drain_pushes
from service.flags.push_queue import queue_flag_push
from service.store.db import transaction
from tests.support.api import (
    OUT_OF_RANGE_ID_NAMES,
    OUT_OF_RANGE_IDS,
    World,
    bearer,
    make_settings,
    open_test_api,
    seed_world,
    store_of,
)
from tests.support.flags import (
    NOW,
    add_flag,
    add_sandbox_items,
    as_flag,
    comment_text,
    flag_comments,
    sandbox_issues,
)
from tests.support.jira_sandbox import serve_jira_sandbox
from tests.support.sources import add_test_source

ATOM = "{http://www.w3.org/2005/Atom}"


def _admin(world: World) -> dict[str, str]:
    return bearer(world.admin_token)


def _feed(api: TestClient, token: str) -> list[dict[str, object]]:
    response = api.get("/v1/feed", params={"limit": 200}, headers=bearer(token))
    assert response.status_code == 200, response.text
    events: list[dict[str, object]] = response.json()["events"]
    return events


def test_removal_preview_counts_what_goes_and_deletes_nothing(api: TestClient, world: World) -> None:
    first = api.get(f"/admin/sources/{world.source_id}/removal", headers=_admin(world))
    again = api.get(f"/admin/sources/{world.source_id}/removal", headers=_admin(world))

    assert first.status_code == 200, first.text
    assert first.json() == again.json()
    assert {k: first.json()[k] for k in ("source_id", "projects", "items", "milestones", "flags")} == {
        "source_id": world.source_id,
        "projects": 4,
        "items": 13,
        "milestones": 4,
        "flags": 20,
    }
    assert first.json()["commitments"] == 12
    assert first.json()["client_scopes"] == 5
    assert first.json()["feed_events_kept"] == 15
    assert api.get(f"/admin/sources/{world.source_id}", headers=_admin(world)).status_code == 200


def test_remove_source_deletes_what_the_preview_counted(api: TestClient, world: World) -> None:
    preview = api.get(f"/admin/sources/{world.source_id}/removal", headers=_admin(world)).json()

    response = api.delete(f"/admin/sources/{world.source_id}", headers=_admin(world))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "removed": preview,
        "comments": {"edited": 0, "gone": 0, "not_edited": 0, "error": None},
    }
    assert api.get(f"/admin/sources/{world.source_id}", headers=_admin(world)).status_code == 404
    assert api.get("/admin/projects", headers=_admin(world)).json() == []
    assert api.get("/admin/flags", headers=_admin(world)).json() == []


def test_remove_source_keeps_what_clients_were_told_without_the_removed_projects(
    api: TestClient, world: World
) -> None:
    token = world.tokens["acme"]
    told = _feed(api, token)
    assert told and all(event["project_id"] is not None for event in told)

    api.delete(f"/admin/sources/{world.source_id}", headers=_admin(world))

    kept = _feed(api, token)
    assert [(e["id"], e["summary"], e["occurred_at"]) for e in kept] == [
        (e["id"], e["summary"], e["occurred_at"]) for e in told
    ]
    assert all(event["project_id"] is None for event in kept)
    atom = ElementTree.fromstring(api.get("/v1/feed.atom", headers=bearer(token)).content)  # noqa: S314 - our own output
    assert {entry.findtext(f"{ATOM}title") for entry in atom.iter(f"{ATOM}entry")} == {
        e["summary"] for e in told
    }
    client = api.get("/v1/projects", headers=bearer(token)).json()
    assert client["projects"] == []
    assert api.get("/v1/risks", headers=bearer(token)).json()["risks"] == []


def test_remove_source_withdraws_events_of_a_project_the_client_no_longer_saw(
    api: TestClient, world: World
) -> None:
    token, client_id = world.tokens["globex"], world.clients["globex"]
    scopes = api.get(f"/admin/clients/{client_id}/scopes", headers=_admin(world)).json()
    shared = next(s for s in scopes if s["project_id"] == world.projects["SHARED"])
    api.delete(f"/admin/clients/{client_id}/scopes/{shared['id']}", headers=_admin(world))
    before = {e["id"] for e in _feed(api, token)}

    removed = api.delete(f"/admin/sources/{world.source_id}", headers=_admin(world)).json()["removed"]

    after = {e["id"] for e in _feed(api, token)}
    assert after == before
    assert removed["feed_events_withdrawn"] == 3
    assert len(after) == 3


@pytest.mark.parametrize("method", ["GET", "DELETE"], ids=["preview", "remove"])
def test_removal_of_an_unknown_source_answers_404(api: TestClient, world: World, method: str) -> None:
    path = "/admin/sources/987654" + ("/removal" if method == "GET" else "")

    response = api.request(method, path, headers=_admin(world))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("source_id", OUT_OF_RANGE_IDS, ids=OUT_OF_RANGE_ID_NAMES)
def test_removal_preview_out_of_range_id_answers_422(api: TestClient, world: World, source_id: str) -> None:
    response = api.get(f"/admin/sources/{source_id}/removal", headers=_admin(world))

    assert response.status_code == 422


def test_removal_routes_need_an_admin_token(api: TestClient, world: World) -> None:
    client = bearer(world.tokens["acme"])

    assert api.get(f"/admin/sources/{world.source_id}/removal", headers=client).status_code == 403
    assert api.delete(f"/admin/sources/{world.source_id}", headers=client).status_code == 403
    assert api.get(f"/admin/sources/{world.source_id}", headers=_admin(world)).status_code == 200


def test_remove_source_edits_its_pushed_comments_on_the_sandbox(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, allow_private_source_urls=True)
    with serve_jira_sandbox("tiny", seed=7) as jira, open_test_api(settings) as api:
        store = store_of(api)
        world = seed_world(store)
        source_id = add_test_source(
            store,
            kind=SourceKind.JIRA_CLOUD,
            name="sandbox-jira",
            webhook_secret=None,
            base_url=jira.base_url,
            credentials={"email": jira.sandbox.jira_email, "api_token": jira.sandbox.jira_api_token},
        )
        items = add_sandbox_items(
            store, source_id=source_id, issues=sandbox_issues(jira, 2), push={"enabled": True}
        )
        with transaction(store.sessions) as session:
            flags = [add_flag(session, subject_id=item) for item in items]
            for flag in flags:
                queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
        drain_pushes(store, now=NOW, retry=RetryPolicy.without_waiting(max_retry_after=0.0))

        response = api.delete(f"/admin/sources/{source_id}", headers=_admin(world))

        texts = [comment_text(c) for flag in flags for c in flag_comments(jira, flag.id)]
    assert response.status_code == 200, response.text
    assert response.json()["removed"]["pushed_comments"] == 2
    assert response.json()["comments"] == {"edited": 2, "gone": 0, "not_edited": 0, "error": None}
    assert len(texts) == 2
    assert all(text.startswith("No longer tracked:") for text in texts)
