"""`GET /admin/rules` (the rules in force: built-in, a file's overrides and custom rules, a file that
does not load) and `POST /admin/rules/reload` (files checked, every project's evaluation queued, or
422 and nothing queued)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.rules import BUILTIN_RULES
from tests.support.api import World, bearer, store_of
from tests.support.fakes import RecordingEnqueuer
from tests.support.rule_files import BROKEN_FILE, CLIENT_FILE, add_shipped_backtest, write_rule_files


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    return write_rule_files(tmp_path / "rules", {"client-acme.yaml": CLIENT_FILE})


@pytest.fixture
def api_overrides(rules_dir: Path) -> dict[str, Any]:
    return {"rules_dir": rules_dir}


@pytest.fixture
def admin(world: World) -> dict[str, str]:
    return bearer(world.admin_token)


def _by_name_and_kind(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["name"], r["kind"]): r for r in body["rules"]}


def test_rules_lists_every_builtin_then_the_files_rules(
    api: TestClient, admin: dict[str, str], rules_dir: Path
) -> None:
    add_shipped_backtest(store_of(api))

    answer = api.get("/admin/rules", headers=admin)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["rules_dir"], body["errors"]) == (str(rules_dir), [])
    assert [r["name"] for r in body["rules"][: len(BUILTIN_RULES)]] == [r.id for r in BUILTIN_RULES]
    rules = _by_name_and_kind(body)
    overdue = rules[("overdue_commitment", "builtin")]
    assert {k: overdue[k] for k in ("origin", "scope", "enabled", "severity", "push_to_jira")} == {
        "origin": "builtin",
        "scope": "default",
        "enabled": True,
        "severity": "critical",
        "push_to_jira": True,
    }
    assert overdue["parameters"] == {"grace_days": 0}
    assert (overdue["precision"], overdue["recall"], overdue["beats_baseline"]) == (0.9, 0.5, True)
    assert rules[("due_soon_not_started", "builtin")]["precision"] is None
    override = rules[("stale_in_progress", "override")]
    assert (override["origin"], override["scope_kind"], override["scope"], override["severity"]) == (
        str(rules_dir / "client-acme.yaml"),
        "client",
        "acme",
        "critical",
    )
    assert override["parameters"]["days"] == 9 and override["precision"] is None
    custom = rules[("bug_late", "custom")]
    assert (custom["enabled"], custom["push_to_jira"], custom["parameters"]["applies_to"]) == (
        True,
        True,
        "item",
    )


def test_rules_lists_a_file_that_does_not_load_with_its_line_and_reason(
    api: TestClient, admin: dict[str, str], rules_dir: Path
) -> None:
    write_rule_files(rules_dir, {"project-ACME.yaml": BROKEN_FILE, "notes.txt": "not a rule file"})

    body = api.get("/admin/rules", headers=admin).json()

    [error] = body["errors"]
    assert (error["file"], error["line"]) == (str(rules_dir / "project-ACME.yaml"), 4)
    assert error["reason"]
    assert ("bug_late", "custom") in _by_name_and_kind(body)  # the client file's still listed


def test_rules_reload_checks_the_files_and_queues_every_project(
    api: TestClient, admin: dict[str, str], world: World, enqueuer: RecordingEnqueuer, rules_dir: Path
) -> None:
    answer = api.post("/admin/rules/reload", headers=admin)

    assert answer.status_code == 202, answer.text
    assert answer.json()["files"] == [str(rules_dir / "client-acme.yaml")]
    assert {p["key"]: p["id"] for p in answer.json()["projects"]} == world.projects
    assert enqueuer.evaluations == 1


def test_rules_reload_with_an_invalid_file_answers_422_and_queues_nothing(
    api: TestClient, admin: dict[str, str], world: World, enqueuer: RecordingEnqueuer, rules_dir: Path
) -> None:
    write_rule_files(rules_dir, {"default.yaml": BROKEN_FILE})

    answer = api.post("/admin/rules/reload", headers=admin)

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_rule_file"
    assert (error["details"]["file"], error["details"]["line"]) == (str(rules_dir / "default.yaml"), 4)
    assert error["details"]["reason"] and f"{rules_dir / 'default.yaml'}:4" in error["message"]
    assert enqueuer.evaluations == 0


def test_rules_routes_need_an_admin_token(api: TestClient, world: World) -> None:
    client = bearer(world.tokens["acme"])

    assert api.get("/admin/rules", headers=client).status_code in (401, 403)
    assert api.post("/admin/rules/reload", headers=client).status_code in (401, 403)
