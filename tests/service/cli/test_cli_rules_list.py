"""`pmbridge rules list [--json]`: the rules in force, with a custom rule file that loads and one that
does not."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.rules import BUILTIN_RULES
from service.settings import Settings
from service.store.runtime import open_store
from tests.support.rule_files import BROKEN_FILE, CLIENT_FILE, add_shipped_backtest, write_rule_files


@pytest.fixture
def rules_dir(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rules_dir = write_rule_files(tmp_path / "rules", {"client-acme.yaml": CLIENT_FILE})
    monkeypatch.setenv("PMBRIDGE_RULES_DIR", str(rules_dir))
    store = open_store(Settings(data_dir=Path(os.environ["PMBRIDGE_DATA_DIR"])))
    try:
        add_shipped_backtest(store)
    finally:
        store.close()
    return rules_dir


def test_rules_list_json_prints_builtins_then_the_files_rules(runner: CliRunner, rules_dir: Path) -> None:
    result = runner.invoke(app, ["rules", "list", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    names = [(r["name"], r["kind"]) for r in body["rules"]]
    assert names == [(r.id, "builtin") for r in BUILTIN_RULES] + [
        ("stale_in_progress", "override"),
        ("bug_late", "custom"),
    ]
    [overdue] = [r for r in body["rules"] if r["name"] == "overdue_commitment"]
    assert (overdue["precision"], overdue["recall"], overdue["beats_baseline"]) == (0.9, 0.5, True)
    assert body["errors"] == []


def test_rules_list_table_reports_a_file_that_does_not_load(runner: CliRunner, rules_dir: Path) -> None:
    write_rule_files(rules_dir, {"project-ACME.yaml": BROKEN_FILE})

    result = runner.invoke(app, ["rules", "list"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("name\tkind\torigin\tscope")
    assert any(line.startswith("bug_late\tcustom\t") and "client:acme" in line for line in lines)
    assert any(
        line.startswith("overdue_commitment\tbuiltin\tbuiltin\tdefault\ton\tcritical\tyes\t0.90")
        for line in lines
    )
    assert f"error: {rules_dir / 'project-ACME.yaml'}:4:" in result.stderr
