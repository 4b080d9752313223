"""`pmbridge flags ack|snooze|dismiss ID`, `flags list` with its filters, and `push enable` with the
budget options, over the seeded agency."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _json(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _listed(runner: CliRunner, *args: str) -> set[int]:
    return {row["id"] for row in _json(runner, "flags", "list", *args)}


def test_flags_ack_json_prints_the_flag_acknowledged(runner: CliRunner, world: World) -> None:
    flag_id = world.flags["ACME-item"]

    row = _json(runner, "flags", "ack", str(flag_id))

    assert (row["id"], row["state"], row["triage"]) == (flag_id, "open", "acknowledged")
    assert flag_id in _listed(runner, "--state", "acknowledged")
    assert flag_id in _listed(runner)  # acknowledged flags are open


def test_flags_snooze_hides_the_flag_from_the_default_listing(runner: CliRunner, world: World) -> None:
    flag_id = world.flags["ACME-item"]
    until = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()

    result = runner.invoke(app, ["flags", "snooze", str(flag_id), "--until", until])

    assert result.exit_code == 0, result.output
    assert f"flag {flag_id} snoozed until {until}" in result.stdout
    assert flag_id not in _listed(runner)
    [row] = [r for r in _json(runner, "flags", "list", "--state", "snoozed") if r["id"] == flag_id]
    assert row["push_waiting_reason"] == "push_disabled"  # ACME has not opted in
    assert row["snoozed_until"].startswith(until)


def test_flags_dismiss_records_the_reason(runner: CliRunner, world: World) -> None:
    flag_id = world.flags["GLOBEX-item"]

    row = _json(runner, "flags", "dismiss", str(flag_id), "--reason", "false_positive")

    assert (row["triage"], row["triage_reason"]) == ("dismissed", "false_positive")
    assert _listed(runner, "--state", "dismissed") == {flag_id}
    assert flag_id not in _listed(runner)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["flags", "dismiss", "{flag}", "--reason", "boring"], "reason must be one of"),
        (["flags", "snooze", "{flag}", "--until", "2020-01-01"], "must end in the future"),
        (["flags", "snooze", "{flag}", "--until", "soon"], "until must be a date"),
        (["flags", "ack", "999999"], "flag 999999 not found"),
        (["flags", "list", "--state", "sleeping"], "state must be one of"),
        (["flags", "list", "--client", "nobody"], "no client named"),
        (["push", "enable", "--project", "ACME", "--quiet-hours", "late"], "quiet hours must be"),
        (["push", "enable", "--project", "ACME", "--timezone", "Mars/Base"], "unknown time zone"),
    ],
    ids=[
        "bad-reason",
        "past-snooze",
        "bad-date",
        "unknown-flag",
        "bad-state",
        "unknown-client",
        "bad-quiet",
        "bad-zone",
    ],
)
def test_flags_commands_refuse_bad_input_with_a_message(
    runner: CliRunner, world: World, args: list[str], message: str
) -> None:
    result = runner.invoke(app, [a.replace("{flag}", str(world.flags["ACME-item"])) for a in args])

    assert result.exit_code == 1
    assert message in result.stderr


def test_flags_list_filters_by_client_project_rule_severity_and_state(
    runner: CliRunner, world: World
) -> None:
    initech = {v for k, v in world.flags.items() if k.startswith("INITECH-")}

    assert _listed(runner, "--client", "initech") == initech
    assert _listed(runner, "--project", "INITECH", "--rule", "rule-item") == {world.flags["INITECH-item"]}
    assert _listed(runner, "--severity", "critical") == set()
    assert _listed(runner, "--state", "resolved") == set()
    assert _listed(runner, "--state", "all") == set(world.flags.values())


def test_flags_list_plain_text_shows_triage_and_push_state(runner: CliRunner, world: World) -> None:
    flag_id = world.flags["ACME-item"]
    runner.invoke(app, ["flags", "ack", str(flag_id)])

    result = runner.invoke(app, ["flags", "list", "--project", "ACME"])

    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith(f"{flag_id}\t")]
    assert "\tacknowledged\twaiting:push_disabled\t" in line


def test_push_enable_budget_options_are_stored_and_shown(runner: CliRunner, world: World) -> None:
    result = runner.invoke(
        app,
        [
            "push",
            "enable",
            "--project",
            "ACME",
            "--max-per-day",
            "2",
            "--quiet-hours",
            "22:00-07:00",
            "--timezone",
            "Europe/Paris",
            "--min-severity",
            "critical",
        ],
    )

    assert result.exit_code == 0, result.output
    assert (
        "at most 2 new comment(s) a day, quiet hours 22:00-07:00 (Europe/Paris), critical and above"
        in result.stdout
    )
    rows = {r["id"]: r for r in _json(runner, "flags", "list", "--project", "ACME")}
    assert rows[world.flags["ACME-item"]]["push_waiting_reason"] == "below_min_severity"  # a warning
