"""Admin rule routes: a rule file checked and dry-run over stored history, as `pmbridge rules` does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from service.domain.enums import ItemKind, StatusCategory
from service.domain.work import WorkItem
from service.store.db import transaction
from service.store.items import upsert_work_items
from tests.support.api import World, bearer, store_of

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

INVALID = """\
rules:
  - id: bug_late
    applies_to: item
    when: item.kind == "bug" &&
    severity: critical
    message: "x"
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
    response = api.post("/admin/rules/validate", json={"rules": INVALID}, headers=admin)

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

    response = api.post("/admin/rules/dry-run", json={"rules": TRIAGE, "since": "30d"}, headers=admin)
    after = datetime.now(UTC)

    assert response.status_code == 200, response.text
    hits = {hit["subject_key"]: hit for hit in response.json()["hits"]}
    assert set(hits) == {"ACME-10", "ACME-11"}
    old, recent = hits["ACME-11"], hits["ACME-10"]
    assert {old["rule"], recent["rule"]} == {"untriaged_bug"}
    assert {old["subject"], recent["subject"]} == {"item"}
    assert old["message"] == "ACME-11 waits for triage"
    # Flagged from the window's start, every replayed day, and still flagged at its end.
    started = datetime.fromisoformat(old["first_flagged_at"])
    assert before - timedelta(days=30) <= started <= after - timedelta(days=30)
    assert old["days_flagged"] == 31
    assert old["resolved_at"] is None
    # Flagged from the first replayed day after its creation.
    first = datetime.fromisoformat(recent["first_flagged_at"])
    assert before - timedelta(days=10) <= first <= before - timedelta(days=9)
    assert recent["days_flagged"] in (10, 11)
    assert recent["resolved_at"] is None


def test_dry_run_window_bounds_the_replay(api: TestClient, world: World, admin: dict[str, str]) -> None:
    _add_items(api, world, now=datetime.now(UTC))

    response = api.post("/admin/rules/dry-run", json={"rules": TRIAGE, "since": "48h"}, headers=admin)

    assert response.status_code == 200, response.text
    assert {hit["days_flagged"] for hit in response.json()["hits"]} == {3}


def test_dry_run_without_matching_subjects_reports_nothing(api: TestClient, admin: dict[str, str]) -> None:
    response = api.post("/admin/rules/dry-run", json={"rules": TRIAGE, "since": "12w"}, headers=admin)

    assert response.status_code == 200, response.text
    assert response.json() == {"hits": []}


def test_dry_run_invalid_file_answers_400_with_line_and_reason(
    api: TestClient, admin: dict[str, str]
) -> None:
    response = api.post("/admin/rules/dry-run", json={"rules": INVALID}, headers=admin)

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

    assert response.status_code == 200, response.text
