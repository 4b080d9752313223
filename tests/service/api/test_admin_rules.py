"""Admin rule routes: a rule file checked, and dry-run over stored history as a queued rule run that a
job does, as `pmbridge rules` does at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.domain.enums import ItemKind, StatusCategory
from service.domain.work import WorkItem
from service.flags.rule_runs import run_queued_rule_run
from service.store.db import transaction
from service.store.items import upsert_work_items
from service.store.orm import RuleRunRow
from service.store.rule_runs import Claim, claim_rule_run, requeue_stalled_rule_runs
from tests.support.api import World, bearer, store_of
from tests.support.fakes import RecordingEnqueuer
from tests.support.rule_files import BROKEN_FILE

VALID = """\
builtin:
  stale_in_progress:
    enabled: false
rules:
  - id: bug_late
    applies_to: item
    when: item.kind == "bug" && item.days_overdue > 2
    severity: critical
    message: "{item.key} is a bug {item.days_overdue} days late"
  - id: big_project
    applies_to: project
    when: project.items_open > 50
    severity: info
    message: "{project.key} is big"
"""


TRIAGE = """\
rules:
  - id: untriaged_bug
    applies_to: item
    when: item.kind == "bug" && "triage" in item.labels
    severity: warning
    message: "{item.key} waits for triage"
"""


@pytest.fixture
def admin(world: World) -> dict[str, str]:
    return bearer(world.admin_token)


def _dry_run(api: TestClient, admin: dict[str, str], body: dict[str, str]) -> dict[str, Any]:
    """Ask for a dry run, do the job the API queued (as the worker would), and read the finished run."""
    queued = api.post("/admin/rules/dry-run", json=body, headers=admin)
    assert queued.status_code == 202, queued.text
    run_id = queued.json()["id"]
    assert queued.headers["location"] == f"/admin/rule-runs/{run_id}"
    assert run_queued_rule_run(store_of(api), run_id=run_id, at_once=1) is Claim.CLAIMED
    finished = api.get(queued.headers["location"], headers=admin)
    assert finished.status_code == 200
    run: dict[str, Any] = finished.json()
    assert run["status"] == "succeeded", run
    return run


def _add_items(api: TestClient, world: World, *, now: datetime) -> None:
    """Two bugs waiting for triage (one from before any window, one ten days old) and a story."""
    items = [
        WorkItem(
            source_id=world.source_id,
            project_external_id="ACME",
            external_id=f"x-{key}",
            key=key,
            title=f"Title of {key}",
            kind=kind,
            status="todo",
            status_category=StatusCategory.TODO,
            labels=("triage",),
            created_at=now - age,
            updated_at=now - age,
        )
        for key, kind, age in (
            ("ACME-10", ItemKind.BUG, timedelta(days=10)),
            ("ACME-11", ItemKind.BUG, timedelta(days=200)),
            ("ACME-12", ItemKind.STORY, timedelta(days=5)),
        )
    ]
    with transaction(store_of(api).sessions) as session:
        upsert_work_items(session, source_id=world.source_id, items=items)


def test_validate_valid_file_lists_its_rules(api: TestClient, admin: dict[str, str]) -> None:
    response = api.post("/admin/rules/validate", json={"rules": VALID}, headers=admin)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "ok": True,
        "custom_rules": ["bug_late", "big_project"],
        "builtin_overrides": ["stale_in_progress"],
    }


def test_validate_empty_file_is_ok_with_no_rules(api: TestClient, admin: dict[str, str]) -> None:
    response = api.post("/admin/rules/validate", json={"rules": ""}, headers=admin)

    assert response.json() == {"ok": True, "custom_rules": [], "builtin_overrides": []}


def test_validate_invalid_condition_answers_400_with_line_and_reason(
    api: TestClient, admin: dict[str, str]
) -> None:
    response = api.post("/admin/rules/validate", json={"rules": BROKEN_FILE}, headers=admin)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"]["line"] == 4
    assert error["details"]["reason"]
    assert error["message"] == f"rules:4: {error['details']['reason']}"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("rules: [\n", 2, "invalid YAML"),
        ("rules:\n  - id: x\n    applies_to: item\n", 2, "missing"),
        ("builtin:\n  no_such_rule: {}\n", 2, "unknown built-in rule 'no_such_rule'"),
        ("colour: blue\n", 1, "unknown key 'colour'"),
        ("rules: []\nbuiltin: \x9d\n", 2, "character 0x9d is not allowed"),
    ],
    ids=["yaml", "missing-keys", "unknown-builtin", "unknown-key", "unprintable"],
)
def test_validate_refusal_names_the_line_and_the_reason(
    api: TestClient, admin: dict[str, str], text: str, line: int, reason: str
) -> None:
    response = api.post("/admin/rules/validate", json={"rules": text}, headers=admin)

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details["line"] == line
    assert reason in details["reason"]


@pytest.mark.parametrize("route", ["/admin/rules/validate", "/admin/rules/dry-run"])
def test_unknown_body_field_answers_422(api: TestClient, admin: dict[str, str], route: str) -> None:
    response = api.post(route, json={"rules": VALID, "mode": "strict"}, headers=admin)

    assert response.status_code == 422
    problems = response.json()["error"]["details"]["errors"]
    assert [p["location"] for p in problems] == [["body", "mode"]]


@pytest.mark.parametrize("route", ["/admin/rules/validate", "/admin/rules/dry-run"])
def test_client_token_answers_403(api: TestClient, world: World, route: str) -> None:
    response = api.post(route, json={"rules": VALID}, headers=bearer(world.tokens["acme"]))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("route", ["/admin/rules/validate", "/admin/rules/dry-run"])
def test_no_token_answers_401(api: TestClient, world: World, route: str) -> None:
    response = api.post(route, json={"rules": VALID})

    assert response.status_code == 401


def test_dry_run_reports_what_the_rules_would_have_flagged(
    api: TestClient, world: World, admin: dict[str, str]
) -> None:
    before = datetime.now(UTC)
    _add_items(api, world, now=before)

    run = _dry_run(api, admin, {"rules": TRIAGE, "since": "30d"})
    after = datetime.now(UTC)

    hits = {hit["subject_key"]: hit for hit in run["result"]["hits"]}
    # ACME-11 alone, until ACME-10 is created: then the two make one flag on their project, as an
    # evaluation would have raised it.
    assert set(hits) == {"ACME-11", "ACME"}
    old, both = hits["ACME-11"], hits["ACME"]
    assert {old["rule"], both["rule"]} == {"untriaged_bug"}
    assert (old["subject"], both["subject"]) == ("item", "project")
    assert old["message"] == "ACME-11 waits for triage"
    assert both["message"].startswith(
        "2 items of ACME outside any open milestone are flagged untriaged bug: ACME-10, ACME-11"
    )
    # Flagged from the window's start, every replayed day, until the project's flag took over.
    started = datetime.fromisoformat(old["first_flagged_at"])
    assert before - timedelta(days=30) <= started <= after - timedelta(days=30)
    assert old["days_flagged"] in (20, 21)
    assert old["resolved_at"] == both["first_flagged_at"]
    # The project's: from the first replayed day after ACME-10's creation, still flagged at the end.
    first = datetime.fromisoformat(both["first_flagged_at"])
    assert before - timedelta(days=10) <= first <= before - timedelta(days=9)
    assert both["days_flagged"] in (10, 11)
    assert both["resolved_at"] is None


def test_dry_run_window_bounds_the_replay(api: TestClient, world: World, admin: dict[str, str]) -> None:
    _add_items(api, world, now=datetime.now(UTC))

    run = _dry_run(api, admin, {"rules": TRIAGE, "since": "48h"})

    assert {hit["days_flagged"] for hit in run["result"]["hits"]} == {3}


def test_dry_run_without_matching_subjects_reports_nothing(api: TestClient, admin: dict[str, str]) -> None:
    run = _dry_run(api, admin, {"rules": TRIAGE, "since": "12w"})

    assert run["result"] == {"hits": []}
    assert run["progress"] == 1.0


def test_dry_run_invalid_file_answers_400_with_line_and_reason(
    api: TestClient, admin: dict[str, str]
) -> None:
    response = api.post("/admin/rules/dry-run", json={"rules": BROKEN_FILE}, headers=admin)

    assert response.status_code == 400
    assert response.json()["error"]["details"]["line"] == 4


@pytest.mark.parametrize("since", ["366d", "53w", "8761h", "999999w", "0d", "soon", "90 d", "-5d"])
def test_dry_run_window_out_of_bounds_answers_422(api: TestClient, admin: dict[str, str], since: str) -> None:
    response = api.post("/admin/rules/dry-run", json={"rules": TRIAGE, "since": since}, headers=admin)

    assert response.status_code == 422
    problems = response.json()["error"]["details"]["errors"]
    assert [p["location"] for p in problems] == [["body", "since"]]


@pytest.mark.parametrize("since", ["365d", "52w", "8760h"])
def test_dry_run_window_up_to_a_year_is_accepted(api: TestClient, admin: dict[str, str], since: str) -> None:
    response = api.post("/admin/rules/dry-run", json={"rules": TRIAGE, "since": since}, headers=admin)

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"


def test_dry_run_is_queued_as_a_job_not_run_in_the_request(
    api: TestClient, admin: dict[str, str], enqueuer: RecordingEnqueuer
) -> None:
    response = api.post("/admin/rules/dry-run", json={"rules": TRIAGE, "since": "30d"}, headers=admin)

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["progress"], body["result"], body["started_at"]) == (
        "queued",
        0.0,
        None,
        None,
    )
    assert enqueuer.rule_runs == [body["id"]]
    assert api.get("/admin/rule-runs", headers=admin).json()[0]["id"] == body["id"]


def test_rule_runs_past_the_concurrency_limit_wait_their_turn(api: TestClient, admin: dict[str, str]) -> None:
    first, second = (
        api.post("/admin/rules/dry-run", json={"rules": TRIAGE}, headers=admin).json()["id"] for _ in range(2)
    )
    store = store_of(api)
    with transaction(store.sessions) as session:
        assert claim_rule_run(session, run_id=first, now=datetime.now(UTC), at_once=1) is Claim.CLAIMED

    assert run_queued_rule_run(store, run_id=second, at_once=1) is Claim.BUSY
    assert api.get(f"/admin/rule-runs/{second}", headers=admin).json()["status"] == "queued"
    assert run_queued_rule_run(store, run_id=second, at_once=2) is Claim.CLAIMED
    assert run_queued_rule_run(store, run_id=second, at_once=2) is Claim.GONE


def test_rule_runs_past_the_waiting_limit_answer_429_with_retry_after(
    api: TestClient, admin: dict[str, str]
) -> None:
    waiting = api.app.state.settings.rule_runs_waiting  # type: ignore[attr-defined]
    for _ in range(waiting):
        assert api.post("/admin/rules/dry-run", json={"rules": TRIAGE}, headers=admin).status_code == 202

    response = api.post("/admin/rules/dry-run", json={"rules": TRIAGE}, headers=admin)

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1


def test_rule_run_that_fails_records_its_error(api: TestClient, admin: dict[str, str]) -> None:
    run_id = api.post("/admin/rules/dry-run", json={"rules": TRIAGE}, headers=admin).json()["id"]
    with transaction(store_of(api).sessions) as session:
        session.execute(update(RuleRunRow).where(RuleRunRow.id == run_id).values(params={"rules": TRIAGE}))

    assert run_queued_rule_run(store_of(api), run_id=run_id, at_once=1) is Claim.CLAIMED

    run = api.get(f"/admin/rule-runs/{run_id}", headers=admin).json()
    assert run["status"] == "failed"
    assert run["error"].startswith("KeyError")
    assert run["result"] is None


def test_rule_run_unknown_id_answers_404(api: TestClient, admin: dict[str, str]) -> None:
    assert api.get("/admin/rule-runs/999999", headers=admin).status_code == 404


def test_rule_runs_stalled_with_their_process_are_queued_again(
    api: TestClient, admin: dict[str, str]
) -> None:
    run_id = api.post("/admin/rules/dry-run", json={"rules": TRIAGE}, headers=admin).json()["id"]
    store = store_of(api)
    started = datetime.now(UTC) - timedelta(hours=2)
    with transaction(store.sessions) as session:
        assert claim_rule_run(session, run_id=run_id, now=started, at_once=1) is Claim.CLAIMED
        requeued = requeue_stalled_rule_runs(
            session, now=datetime.now(UTC), running_longer_than=timedelta(hours=1)
        )

    assert requeued == [run_id]
    assert api.get(f"/admin/rule-runs/{run_id}", headers=admin).json()["status"] == "queued"


def _backtest(api: TestClient, admin: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    queued = api.post("/admin/rules/backtest", json=body, headers=admin)
    assert queued.status_code == 202, queued.text
    assert queued.json()["kind"] == "backtest"
    assert run_queued_rule_run(store_of(api), run_id=queued.json()["id"], at_once=1) is Claim.CLAIMED
    run: dict[str, Any] = api.get(queued.headers["location"], headers=admin).json()
    return run


def test_backtest_scores_the_rules_as_a_job(api: TestClient, admin: dict[str, str], world: World) -> None:
    _add_items(api, world, now=datetime.now(UTC))

    run = _backtest(api, admin, {"rules": TRIAGE, "since": "30d", "step": "1d"})

    assert run["status"] == "succeeded", run
    result = run["result"]
    assert result["window"]["step"] == "1d"
    rules = {row["rule"]: row for row in result["rules"]}
    # ACME-10 and ACME-11 wait for triage; neither belongs to a promise, so they count apart.
    assert rules["untriaged_bug"]["flags"] == 2
    assert rules["untriaged_bug"]["without_promise"] == 2
    assert rules["untriaged_bug"]["precision"] is None
    # The file's rules are scored with the built-in rules in force; those off by default are not.
    assert "overdue_commitment" in rules
    assert "stale_in_progress" not in rules
    assert set(result["overall"]) >= {
        "precision",
        "recall",
        "median_lead_days",
        "open_flags_per_100_items",
        "comments_per_100_items_per_week",
        "promises_missed",
        "promises_flagged_in_time",
    }
    assert {b["name"] for b in result["baselines"]} >= {"past_due_items", "in_progress_over_5_days"}


def test_backtest_of_a_window_with_no_history_fails_with_the_reason(
    api: TestClient, admin: dict[str, str]
) -> None:
    run = _backtest(api, admin, {"until": "2020-01-01T00:00:00Z"})

    assert run["status"] == "failed"
    assert "the window holds no history" in run["error"]
    assert run["result"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"step": "2d", "since": "1d"}, "step"),
        ({"step": "30m"}, "step"),
        ({"until": "2999-01-01T00:00:00Z"}, "until"),
        ({"since": "soon"}, "since"),
    ],
)
def test_backtest_bad_window_answers_422(
    api: TestClient, admin: dict[str, str], body: dict[str, str], field: str
) -> None:
    response = api.post("/admin/rules/backtest", json=body, headers=admin)

    assert response.status_code == 422, response.text
    assert field in response.text


def test_backtest_invalid_rule_file_answers_400(api: TestClient, admin: dict[str, str]) -> None:
    response = api.post("/admin/rules/backtest", json={"rules": BROKEN_FILE}, headers=admin)

    assert response.status_code == 400
    assert response.json()["error"]["details"]["line"] == 4
