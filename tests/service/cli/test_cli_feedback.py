"""`pmbridge feedback list` (filters, what each rating refers to) and `feedback handled ID
[--undo]`, over the seeded agency."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.settings import Settings
from service.store.runtime import Store, open_store
from tests.support.api import World, seed_world
from tests.support.feedback import seed_feedback


@pytest.fixture
def store(runner: CliRunner) -> Iterator[Store]:
    opened = open_store(Settings(data_dir=Path(os.environ["PMBRIDGE_DATA_DIR"])))
    yield opened
    opened.close()


@pytest.fixture
def world(store: Store) -> World:
    return seed_world(store)


@pytest.fixture
def feedback(store: Store, world: World) -> dict[str, int]:
    return seed_feedback(store, world)


def _json(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _listed(runner: CliRunner, *args: str) -> list[int]:
    return [row["id"] for row in _json(runner, "feedback", "list", *args)]


def test_feedback_list_json_prints_every_rating_newest_first(
    runner: CliRunner, feedback: dict[str, int]
) -> None:
    rows = _json(runner, "feedback", "list")

    assert [r["id"] for r in rows] == sorted(
        (feedback[k] for k in ("acme-milestone", "acme-event", "globex-milestone", "globex-period")),
        reverse=True,
    )
    [on_event] = [r for r in rows if r["id"] == feedback["acme-event"]]
    assert (on_event["client"]["name"], on_event["rating"], on_event["event"]["item_key"]) == (
        "acme",
        5,
        "ACME-1",
    )


def test_feedback_list_filters_by_client_project_milestone_and_handled(
    runner: CliRunner, world: World, feedback: dict[str, int]
) -> None:
    runner.invoke(app, ["feedback", "handled", str(feedback["acme-milestone"])])

    assert set(_listed(runner, "--client", "globex")) == {
        feedback["globex-milestone"],
        feedback["globex-period"],
    }
    assert set(_listed(runner, "--project", "ACME")) == {feedback["acme-milestone"], feedback["acme-event"]}
    assert _listed(runner, "--handled") == [feedback["acme-milestone"]]
    assert _listed(runner, "--milestone", str(world.milestones["SHARED"])) == [feedback["globex-milestone"]]
    assert feedback["acme-milestone"] not in _listed(runner, "--unhandled")


def test_feedback_list_plain_text_names_the_client_and_subject(
    runner: CliRunner, feedback: dict[str, int]
) -> None:
    result = runner.invoke(app, ["feedback", "list", "--client", "acme"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert "acme\t5/5\tunhandled\tevent" in lines[0] and "ACME-1 is done" in lines[0]
    assert "milestone ACME/ACME 1.0\tsaid acme-milestone" in lines[1]


def test_feedback_handled_and_undo_round_trip(runner: CliRunner, feedback: dict[str, int]) -> None:
    feedback_id = str(feedback["globex-period"])

    marked = _json(runner, "feedback", "handled", feedback_id)
    again = _json(runner, "feedback", "handled", feedback_id)
    undone = _json(runner, "feedback", "handled", feedback_id, "--undo")
    said = runner.invoke(app, ["feedback", "handled", feedback_id])

    assert marked["handled"] is True and marked["handled_at"] is not None
    assert again == marked
    assert (undone["handled"], undone["handled_at"]) == (False, None)
    assert said.stdout.strip() == f"feedback {feedback_id} handled"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["feedback", "list", "--client", "nobody"], "no client named 'nobody'"),
        (["feedback", "list", "--project", "NOPE"], "no project with key 'NOPE'"),
        (["feedback", "list", "--milestone", "999999"], "milestone 999999 not found"),
        (["feedback", "handled", "999999"], "feedback 999999 not found"),
    ],
    ids=["unknown-client", "unknown-project", "unknown-milestone", "unknown-feedback"],
)
def test_feedback_commands_refuse_unknown_names_with_a_message(
    runner: CliRunner, feedback: dict[str, int], args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)

    assert result.exit_code == 1
    assert message in result.stderr
