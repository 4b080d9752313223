from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from tests.support.rule_files import BROKEN_FILE

VALID = """\
rules:
  - id: bug_late
    applies_to: item
    when: item.kind == "bug" && item.days_overdue > 2
    severity: critical
    message: "{item.key} is a bug {item.days_overdue} days late"
    push_to_jira: true
    client_visible: false
"""


def test_rules_check_valid_file_lists_its_rules(runner: CliRunner, tmp_path: Path) -> None:
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(VALID)

    result = runner.invoke(app, ["rules", "check", str(rule_file), "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"ok": True, "custom_rules": ["bug_late"], "builtin_overrides": []}


def test_rules_check_invalid_cel_names_the_line(runner: CliRunner, tmp_path: Path) -> None:
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(BROKEN_FILE)

    result = runner.invoke(app, ["rules", "check", str(rule_file)])

    assert result.exit_code == 1
    assert f"{rule_file}:4:" in result.stderr


def test_rules_dry_run_on_an_empty_store_reports_nothing(runner: CliRunner, tmp_path: Path) -> None:
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(VALID)

    result = runner.invoke(app, ["rules", "dry-run", str(rule_file), "--since", "30d", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_rules_dry_run_bad_duration_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(VALID)

    result = runner.invoke(app, ["rules", "dry-run", str(rule_file), "--since", "soon"])

    assert result.exit_code == 2


def test_flags_list_json_on_an_empty_store_is_an_empty_array(runner: CliRunner) -> None:
    result = runner.invoke(app, ["flags", "list", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_push_enable_unknown_project_exits_with_message(runner: CliRunner) -> None:
    result = runner.invoke(app, ["push", "enable", "--project", "NOPE"])

    assert result.exit_code == 1
    assert "NOPE" in result.stderr


def test_flags_push_json_on_an_empty_queue_reports_zeros(runner: CliRunner) -> None:
    result = runner.invoke(app, ["flags", "push", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["created"] == summary["updated"] == summary["dead"] == 0
