"""`pmbridge digest --client X [--format md|html]`."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from service.settings import Settings
from service.store.runtime import open_store
from tests.support.api import seed_world


def _seed() -> None:
    store = open_store(Settings(data_dir=Path(os.environ["PMBRIDGE_DATA_DIR"])))
    try:
        seed_world(store)
    finally:
        store.close()


def test_digest_markdown_for_client_printed(runner: CliRunner) -> None:
    _seed()

    result = runner.invoke(
        app, ["digest", "--client", "acme", "--period", "fortnight", "--ending", "2026-09-14"]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Your fortnightly update, acme")
    assert "ACME-1 Title of ACME-1 (2026-09-04)" in result.stdout
    assert "rate it from 1 to 5 in your portal" in result.stdout


def test_digest_html_format_printed(runner: CliRunner) -> None:
    _seed()

    result = runner.invoke(app, ["digest", "--client", "globex", "--format", "html"])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert "globex" in result.stdout


def test_digest_unknown_client_exits_with_error(runner: CliRunner) -> None:
    _seed()

    result = runner.invoke(app, ["digest", "--client", "nobody"])

    assert result.exit_code == 1
    assert "no client named 'nobody'" in result.output
