"""Admin flag routes: triage (ack, snooze, dismiss), history, the listing's filters and push state,
and a project's push-back settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.support.api import World, bearer


def _admin(world: World) -> dict[str, str]:
    return bearer(world.admin_token)


def _tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).date().isoformat()


def test_ack_returns_the_flag_acknowledged_by_the_caller_and_still_open(
    api: TestClient, world: World
) -> None:
    flag_id = world.flags["ACME-item"]

    answer = api.post(f"/admin/flags/{flag_id}/ack", headers=_admin(world))

    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["state"], body["triage"], body["triage_reason"]) == (
        flag_id,
        "open",
        "acknowledged",
        None,
    )
    assert body["triaged_by"].startswith("token:") and body["triaged_at"] is not None
    assert body["rule_id"] == "rule-item" and body["published"] is True  # the fields it had stay
    open_ids = {
        f["id"] for f in api.get("/admin/flags", params={"state": "open"}, headers=_admin(world)).json()
    }
    assert flag_id in open_ids


def test_snooze_until_a_date_leaves_the_open_listing_and_says_until_when(
    api: TestClient, world: World
) -> None:
    flag_id = world.flags["ACME-item"]

    answer = api.post(f"/admin/flags/{flag_id}/snooze", json={"until": _tomorrow()}, headers=_admin(world))

    assert answer.status_code == 200
    assert answer.json()["triage"] == "snoozed"
    assert answer.json()["snoozed_until"].startswith(_tomorrow())
    listed = {
        state: {
            f["id"] for f in api.get("/admin/flags", params={"state": state}, headers=_admin(world)).json()
        }
        for state in ("open", "snoozed")
    }
    assert flag_id not in listed["open"] and flag_id in listed["snoozed"]


def test_dismiss_with_a_reason_keeps_the_fingerprint_it_dismissed(api: TestClient, world: World) -> None:
    flag_id = world.flags["GLOBEX-item"]

    answer = api.post(
        f"/admin/flags/{flag_id}/dismiss", json={"reason": "not_client_relevant"}, headers=_admin(world)
    )

    body = answer.json()
    assert (body["triage"], body["triage_reason"], body["dismissed_fingerprint"]) == (
        "dismissed",
        "not_client_relevant",
        body["fingerprint"],
    )
    dismissed = api.get("/admin/flags", params={"state": "dismissed"}, headers=_admin(world)).json()
    assert [f["id"] for f in dismissed] == [flag_id]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("dismiss", {"reason": "boring"}),
        ("dismiss", {}),
        ("snooze", {"until": "next tuesday"}),
        ("snooze", {"until": "2026-02-30"}),
        ("snooze", {"until": "2020-01-01"}),
        ("snooze", {"until": "2020-01-01T10:00:00+00:00"}),
    ],
    ids=["unknown-reason", "no-reason", "not-a-date", "no-such-day", "past-date", "past-datetime"],
)
def test_triage_bad_input_answers_422_with_the_error_body(
    api: TestClient, world: World, path: str, body: dict[str, str]
) -> None:
    answer = api.post(f"/admin/flags/{world.flags['ACME-item']}/{path}", json=body, headers=_admin(world))

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_failed"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "ack", None),
        ("POST", "snooze", {"until": "2999-01-01"}),
        ("POST", "dismiss", {"reason": "known"}),
        ("GET", "history", None),
    ],
    ids=["ack", "snooze", "dismiss", "history"],
)
def test_triage_unknown_flag_answers_404(
    api: TestClient, world: World, method: str, path: str, body: dict[str, str] | None
) -> None:
    answer = api.request(method, f"/admin/flags/999999/{path}", json=body, headers=_admin(world))

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_triage_needs_an_admin_token(api: TestClient, world: World) -> None:
    answer = api.post(f"/admin/flags/{world.flags['ACME-item']}/ack", headers=bearer(world.tokens["acme"]))

    assert answer.status_code in (401, 403)


def test_history_lists_each_step_oldest_first_with_who(api: TestClient, world: World) -> None:
    flag_id = world.flags["INITECH-unpublished"]
    api.post(f"/admin/flags/{flag_id}/publish", json={"client_text": "Login may slip"}, headers=_admin(world))
    api.post(f"/admin/flags/{flag_id}/ack", headers=_admin(world))
    api.post(f"/admin/flags/{flag_id}/dismiss", json={"reason": "known"}, headers=_admin(world))

    history = api.get(f"/admin/flags/{flag_id}/history", headers=_admin(world)).json()

    assert [h["kind"] for h in history] == ["published", "acknowledged", "dismissed"]
    assert history[2]["detail"] == {"reason": "known", "fingerprint": "INITECH-unpublished"}
    assert all(h["by"] and h["by"].startswith("token:") for h in history)


def test_flags_listing_filters_by_client_project_rule_and_severity(api: TestClient, world: World) -> None:
    def ids(**params: str) -> set[int]:
        answer = api.get("/admin/flags", params=params, headers=_admin(world))
        assert answer.status_code == 200, answer.text
        return {f["id"] for f in answer.json()}

    assert ids(client="initech") == {v for k, v in world.flags.items() if k.startswith("INITECH-")}
    assert ids(client="globex", rule="rule-milestone") == {
        world.flags["GLOBEX-milestone"],
        world.flags["SHARED-milestone"],
    }
    assert ids(project="ACME", state="open") == {v for k, v in world.flags.items() if k.startswith("ACME-")}
    assert ids(severity="critical") == set()
    assert ids(severity="warning") == set(world.flags.values())


def test_flags_listing_says_where_each_comment_stands(api: TestClient, world: World) -> None:
    flags = api.get("/admin/flags", params={"project": "ACME"}, headers=_admin(world)).json()

    by_id = {f["id"]: (f["push_state"], f["push_waiting_reason"]) for f in flags}
    assert by_id[world.flags["ACME-item"]] == ("waiting", "push_disabled")  # ACME has not opted in
    assert by_id[world.flags["ACME-project"]] == ("waiting", "rule_not_pushed")  # only item flags push


@pytest.mark.parametrize(
    "params",
    [{"client": "nobody"}, {"project": "NOPE"}, {"state": "sleeping"}, {"severity": "urgent"}],
    ids=["unknown-client", "unknown-project", "unknown-state", "unknown-severity"],
)
def test_flags_listing_bad_filter_is_refused(api: TestClient, world: World, params: dict[str, str]) -> None:
    answer = api.get("/admin/flags", params=params, headers=_admin(world))

    assert answer.status_code in (404, 422)
    assert answer.json()["error"]["code"] in ("not_found", "validation_failed")


def test_push_enable_stores_the_budget_and_keeps_what_is_not_given(api: TestClient, world: World) -> None:
    project_id = world.projects["ACME"]
    url = f"/admin/projects/{project_id}/push"

    enabled = api.post(
        f"{url}/enable",
        json={"max_per_day": 3, "quiet_hours": "22:00-07:00", "timezone": "Europe/Paris"},
        headers=_admin(world),
    )
    again = api.post(
        f"{url}/enable", json={"min_severity": "critical", "min_precision": 0.9}, headers=_admin(world)
    )
    disabled = api.post(f"{url}/disable", headers=_admin(world))

    assert enabled.status_code == 200, enabled.text
    assert {k: v for k, v in again.json().items() if k != "queued"} == {
        "project_id": project_id,
        "enabled": True,
        "dry_run": False,
        "max_per_day": 3,
        "quiet_hours": "22:00-07:00",
        "timezone": "Europe/Paris",
        "min_severity": "critical",
        "min_precision": 0.9,
    }
    assert (disabled.json()["enabled"], disabled.json()["max_per_day"]) == (False, 3)
    assert api.get(url, headers=_admin(world)).json()["timezone"] == "Europe/Paris"


@pytest.mark.parametrize(
    "body",
    [
        {"quiet_hours": "late"},
        {"timezone": "Mars/Base"},
        {"max_per_day": -1},
        {"min_severity": "urgent"},
        {"min_precision": 1.2},
        {"min_precision": "high"},
    ],
    ids=["quiet-hours", "timezone", "max-per-day", "min-severity", "min-precision", "min-precision-text"],
)
def test_push_enable_bad_setting_answers_422_and_changes_nothing(
    api: TestClient, world: World, body: dict[str, object]
) -> None:
    url = f"/admin/projects/{world.projects['ACME']}/push"

    answer = api.post(f"{url}/enable", json=body, headers=_admin(world))

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_failed"
    assert api.get(url, headers=_admin(world)).json()["enabled"] is False


def test_push_enable_unknown_project_answers_404(api: TestClient, world: World) -> None:
    answer = api.post("/admin/projects/999999/push/enable", json={}, headers=_admin(world))

    assert answer.status_code == 404


def test_unpublish_hides_the_flag_from_clients_as_keep_internal_does(api: TestClient, world: World) -> None:
    flag_id = world.flags["INITECH-project"]

    answer = api.post(f"/admin/flags/{flag_id}/unpublish", headers=_admin(world))

    assert answer.status_code == 200
    assert (answer.json()["id"], answer.json()["published"]) == (flag_id, False)
    risks = api.get("/v1/risks", headers=bearer(world.tokens["initech"])).json()["risks"]
    assert flag_id not in [r["id"] for r in risks]
    history = api.get(f"/admin/flags/{flag_id}/history", headers=_admin(world)).json()
    assert [h["kind"] for h in history] == ["unpublished"]


@pytest.mark.parametrize("path", ["unpublish", "keep-internal"], ids=["unpublish", "keep-internal"])
def test_unpublish_unknown_flag_answers_404(api: TestClient, world: World, path: str) -> None:
    answer = api.post(f"/admin/flags/999999/{path}", headers=_admin(world))

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("text", ["", "x" * 2001], ids=["empty", "too-long"])
def test_publish_empty_or_too_long_text_answers_422_and_publishes_nothing(
    api: TestClient, world: World, text: str
) -> None:
    flag_id = world.flags["INITECH-unpublished"]

    answer = api.post(f"/admin/flags/{flag_id}/publish", json={"client_text": text}, headers=_admin(world))

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_failed"
    assert api.get(f"/admin/flags/{flag_id}/history", headers=_admin(world)).json() == []
