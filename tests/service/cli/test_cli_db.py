from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service import __version__
from service.cli import app, render_openapi
from service.settings import Settings
from service.store.schema import SCHEMA_HEAD

REPO = Path(__file__).resolve().parents[3]
HEAD = SCHEMA_HEAD


def test_version_prints_the_package_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["version"])

    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in ("db", "serve", "openapi", "version"):
        assert command in result.stdout


def test_db_current_fresh_directory_reports_outdated(runner: CliRunner) -> None:
    result = runner.invoke(app, ["db", "current", "--json"])

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"current": None, "head": HEAD, "up_to_date": False}


def test_db_upgrade_then_current_is_up_to_date(runner: CliRunner) -> None:
    upgraded = runner.invoke(app, ["db", "upgrade"])
    current = runner.invoke(app, ["db", "current", "--json"])

    assert upgraded.exit_code == 0, upgraded.output
    assert f"-> {HEAD}" in upgraded.stdout
    assert json.loads(current.stdout)["up_to_date"] is True


def test_db_upgrade_on_configured_database(
    runner: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMBRIDGE_DATABASE_URL", database_url)

    result = runner.invoke(app, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert json.loads(runner.invoke(app, ["db", "current", "--json"]).stdout)["up_to_date"] is True


def test_production_mode_without_secret_key_exits_with_message(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMBRIDGE_MODE", "production")

    result = runner.invoke(app, ["serve", "--port", "0"])

    assert result.exit_code == 1
    assert "PMBRIDGE_SECRET_KEY" in result.stderr


def test_secret_key_prints_a_fernet_key(runner: CliRunner) -> None:
    result = runner.invoke(app, ["secret-key"])

    assert result.exit_code == 0
    assert len(result.stdout.strip()) == 44


def test_committed_openapi_matches_the_app(tmp_path: Path) -> None:
    committed = (REPO / "openapi" / "openapi.json").read_text()

    assert render_openapi(Settings(data_dir=tmp_path)) == committed, "run `make openapi` and commit"
