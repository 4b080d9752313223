"""Client routes: what a client reads of its own projects, and only that."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.api import (
    World,
    add_feed_event,
    bearer,
    store_of,
)


def test_projects_list_holds_only_the_scope_with_progress(api: TestClient, world: World) -> None:
    response = api.get("/v1/projects", headers=bearer(world.tokens["globex"]))

    assert response.status_code == 200
    projects = {p["key"]: p for p in response.json()["projects"]}
    assert set(projects) == {"GLOBEX", "SHARED"}
    assert projects["GLOBEX"]["progress"] == {"done": 1, "total": 3, "todo": 1, "in_progress": 1}
    assert projects["GLOBEX"]["milestones"][0]["progress"]["total"] == 2


def test_projects_label_scope_counts_only_labelled_items(api: TestClient, world: World) -> None:
    response = api.get(f"/v1/projects/{world.projects['SHARED']}", headers=bearer(world.tokens["acme"]))

    assert response.status_code == 200
    assert response.json()["project"]["progress"] == {"done": 1, "total": 2, "todo": 0, "in_progress": 1}


def test_projects_every_response_carries_freshness(api: TestClient, world: World) -> None:
    response = api.get("/v1/projects", headers=bearer(world.tokens["initech"]))

    freshness = response.json()["freshness"]
    assert [s["source_id"] for s in freshness["sources"]] == [world.source_id]
    assert freshness["census_complete"] is False


def test_commitments_show_baseline_current_and_slips(api: TestClient, world: World) -> None:
    response = api.get(
        f"/v1/commitments/{world.commitments['INITECH-item']}", headers=bearer(world.tokens["initech"])
    )

    assert response.status_code == 200
    commitment = response.json()["commitment"]
    assert (commitment["baseline_date"], commitment["current_date"]) == ("2026-09-10", "2026-09-17")
    assert (commitment["slip_days"], commitment["slip_count"]) == (7, 1)
    assert commitment["moves"][0]["days"] == 7


def test_commitments_label_scope_hides_commitments_on_hidden_items(api: TestClient, world: World) -> None:
    response = api.get(
        "/v1/commitments",
        params={"project_id": world.projects["SHARED"]},
        headers=bearer(world.tokens["acme"]),
    )

    ids = {c["id"] for c in response.json()["commitments"]}
    assert ids == {world.commitments["SHARED-item"], world.commitments["SHARED-milestone"]}


def test_risks_show_published_wording_of_visible_subjects_only(api: TestClient, world: World) -> None:
    response = api.get(
        "/v1/risks", params={"project_id": world.projects["SHARED"]}, headers=bearer(world.tokens["acme"])
    )

    texts = sorted(r["text"] for r in response.json()["risks"])
    assert texts == ["Risk on SHARED (item)", "Risk on SHARED (milestone)", "Risk on SHARED (project)"]
    assert "internal rule message" not in response.text


def test_kpis_report_quality_cost_and_satisfaction(api: TestClient, world: World) -> None:
    headers = bearer(world.tokens["acme"])
    api.post(
        "/v1/feedback",
        json={"subject": "milestone", "subject_id": world.milestones["ACME"], "rating": 4},
        headers=headers,
    )

    response = api.get("/v1/kpis", params={"project_id": world.projects["ACME"]}, headers=headers)

    assert response.status_code == 200
    kpis = response.json()
    assert kpis["quality"]["bugs_found_after_done"] == 1
    assert kpis["cost"]["estimate_hours"] == 2.0
    assert kpis["cost"]["spent_hours"] == 1.0
    assert [(e["id"], e["name"]) for e in kpis["cost"]["by_project"]] == [
        (world.projects["ACME"], "ACME web")
    ]
    assert kpis["schedule"]["commitments_met"] == 1
    assert kpis["satisfaction"] == {
        "responses": 1,
        "average_rating": 4.0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
        # The ACME milestone was delivered before its promised date: its rating counts as on time.
        "by_delivery": {
            "on_time": {"responses": 1, "average_rating": 4.0},
            "late": {"responses": 0, "average_rating": None},
        },
    }


def test_kpis_cycle_time_from_creation_without_status_changes(api: TestClient, world: World) -> None:
    response = api.get(
        "/v1/kpis", params={"project_id": world.projects["INITECH"]}, headers=bearer(world.tokens["initech"])
    )

    assert response.json()["schedule"]["cycle_time_median_days"] == 3.0


def test_feedback_on_a_period_is_stored(api: TestClient, world: World) -> None:
    body = {
        "subject": "period",
        "period_start": "2026-09-01",
        "period_end": "2026-09-30",
        "rating": 5,
        "comment": "great",
    }

    response = api.post("/v1/feedback", json=body, headers=bearer(world.tokens["acme"]))

    assert response.status_code == 201
    assert response.json()["rating"] == 5


@pytest.mark.parametrize(
    "body",
    [
        {"subject": "period", "rating": 5},
        {"subject": "milestone", "rating": 3},
        {"subject": "event", "subject_id": 1, "rating": 6},
        {"subject": "event", "subject_id": 1, "rating": 3, "client_id": 2},
    ],
    ids=["period-without-dates", "milestone-without-id", "rating-out-of-range", "unknown-field"],
)
def test_feedback_invalid_body_answers_422(api: TestClient, world: World, body: dict[str, object]) -> None:
    response = api.post("/v1/feedback", json=body, headers=bearer(world.tokens["acme"]))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


def test_reads_answer_304_for_a_matching_etag(api: TestClient, world: World) -> None:
    headers = bearer(world.tokens["acme"])
    first = api.get("/v1/projects", headers=headers)

    again = api.get("/v1/projects", headers={**headers, "If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304
    assert again.content == b""


def test_reads_new_data_changes_the_etag(api: TestClient, world: World) -> None:
    headers = bearer(world.tokens["acme"])
    first = api.get("/v1/feed", headers=headers)

    add_feed_event(
        store_of(api), client_id=world.clients["acme"], project_id=world.projects["ACME"], summary="new"
    )
    again = api.get("/v1/feed", headers={**headers, "If-None-Match": first.headers["ETag"]})

    assert again.status_code == 200
    assert again.headers["ETag"] != first.headers["ETag"]


def test_client_routes_admin_token_answers_403(api: TestClient, world: World) -> None:
    response = api.get("/v1/projects", headers=bearer(world.admin_token))

    assert response.status_code == 403


def test_admin_routes_client_token_answers_403(api: TestClient, world: World) -> None:
    response = api.get("/admin/clients", headers=bearer(world.tokens["acme"]))

    assert response.status_code == 403
