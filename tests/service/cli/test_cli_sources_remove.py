"""`pmbridge sources remove ID`: shows what goes and asks, unless --yes; --json prints the result."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.settings import Settings
from service.store.runtime import open_store
from tests.support.api import World, seed_world


@pytest.fixture
def world(runner: CliRunner) -> World:
    store = open_store(Settings(data_dir=Path(os.environ["PMBRIDGE_DATA_DIR"])))
    try:
        return seed_world(store)
    finally:
        store.close()


def _source_ids(runner: CliRunner) -> list[int]:
    result = runner.invoke(app, ["sources", "list", "--json"])
    assert result.exit_code == 0, result.output
    return [source["id"] for source in json.loads(result.stdout)]


def test_sources_remove_declined_shows_counts_per_kind_and_removes_nothing(
    runner: CliRunner, world: World
) -> None:
    result = runner.invoke(app, ["sources", "remove", str(world.source_id)], input="n\n")

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"source {world.source_id} (agency-jira): removing it deletes"
    assert "  projects" in result.stdout
    assert [line.split()[-1] for line in lines if line.split()[:1] == ["items"]] == ["13"]
    assert "feed events kept" in result.stdout
    assert f"Remove source {world.source_id} (agency-jira)?" in result.stdout
    assert "nothing removed" in result.stderr
    assert _source_ids(runner) == [world.source_id]


def test_sources_remove_confirmed_removes_the_source(runner: CliRunner, world: World) -> None:
    result = runner.invoke(app, ["sources", "remove", str(world.source_id)], input="y\n")

    assert result.exit_code == 0, result.output
    assert f"source {world.source_id} (agency-jira): removed" in result.stdout
    assert "pushed comments: 0 now say the item is no longer tracked" in result.stdout
    assert _source_ids(runner) == []


def test_sources_remove_yes_json_prints_what_was_removed_without_asking(
    runner: CliRunner, world: World
) -> None:
    result = runner.invoke(app, ["sources", "remove", str(world.source_id), "--yes", "--json"])

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["removed"]["source_id"] == world.source_id
    assert (printed["removed"]["projects"], printed["removed"]["flags"]) == (4, 20)
    assert printed["comments"] == {"edited": 0, "gone": 0, "not_edited": 0, "error": None}
    assert _source_ids(runner) == []


def test_sources_remove_json_asks_on_stderr_and_prints_only_json(runner: CliRunner, world: World) -> None:
    result = runner.invoke(app, ["sources", "remove", str(world.source_id), "--json"], input="y\n")

    assert result.exit_code == 0, result.output
    # The test runner echoes the typed answer to stdout, as a terminal would show it.
    answer, printed = result.stdout.splitlines()
    assert answer.strip() == "y"
    assert json.loads(printed)["removed"]["items"] == 13
    assert "removing it deletes" in result.stderr
    assert "Remove source" in result.stderr


def test_sources_remove_unknown_id_exits_with_not_found(runner: CliRunner, world: World) -> None:
    result = runner.invoke(app, ["sources", "remove", "9999", "--yes"])

    assert result.exit_code == 1
    assert result.stderr.strip() == "error: source 9999 not found"
    assert _source_ids(runner) == [world.source_id]
