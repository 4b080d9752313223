"""The sandbox clock: started in the past, moved only forward, through the control API too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from sandbox.app import create_sandbox_app
from sandbox.cli import parse_start, sandbox_app
from sandbox.clock import ClockError, SandboxClock
from sandbox.emit import CollectingSink
from sandbox.jira.timefmt import to_ms
from sandbox.scenarios import build_sandbox

WALL = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_clock_started_in_the_past_reads_the_start_and_runs_on() -> None:
    wall = [WALL]
    clock = SandboxClock(start_at=WALL - timedelta(days=90), wall=lambda: wall[0])

    assert clock.now() == WALL - timedelta(days=90)
    wall[0] += timedelta(seconds=5)
    assert clock.now() == WALL - timedelta(days=90) + timedelta(seconds=5)


def test_clock_started_in_the_future_is_refused() -> None:
    with pytest.raises(ClockError, match="in the future"):
        SandboxClock(start_at=WALL + timedelta(minutes=1), wall=lambda: WALL)


def test_clock_advanced_forward_refuses_a_move_backward_and_stays() -> None:
    clock = SandboxClock(frozen_at=WALL)

    with pytest.raises(ClockError, match="forward"):
        clock.advance_forward(timedelta(seconds=-1))
    assert clock.now() == WALL


def test_clock_advanced_forward_may_pass_the_wall_clock() -> None:
    clock = SandboxClock(start_at=WALL - timedelta(days=1), wall=lambda: WALL)

    assert clock.advance_forward(timedelta(days=3)) == WALL + timedelta(days=2)


def test_build_sandbox_with_a_start_generates_both_histories_ending_at_it() -> None:
    start = datetime.now(UTC) - timedelta(days=90)

    sandbox = build_sandbox("tiny", 7, start=start, sink=CollectingSink())

    world = sandbox.jira
    latest = max(
        [i.updated_ms for i in world.issues.values()]
        + [h.created_ms for i in world.issues.values() for h in i.histories]
    )
    assert to_ms(start) - 45 * 86_400_000 <= min(i.created_ms for i in world.issues.values())
    assert latest <= to_ms(sandbox.clock.now())
    assert sandbox.clock.now() - start < timedelta(minutes=5)
    assert sandbox.trello is not None
    dates = [a.date for actions in sandbox.trello.board_actions.values() for a in actions]
    assert start - timedelta(days=46) <= min(dates) and max(dates) <= sandbox.clock.now()


def test_control_clock_advance_to_an_instant_moves_there() -> None:
    sandbox = build_sandbox("tiny", 7, now=WALL, sink=CollectingSink(), with_trello=False)
    with TestClient(create_sandbox_app(sandbox)) as api:
        response = api.post("/_sandbox/clock/advance", json={"to": "2026-12-03T12:00:00+00:00"})

    assert response.status_code == 200
    assert sandbox.clock.now() == WALL + timedelta(days=2)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"seconds": -1}, "clock_backward"),
        ({"to": "2026-11-30T12:00:00+00:00"}, "clock_backward"),
        ({"to": "2026-12-03T12:00:00"}, "invalid_move"),
        ({"days": "soon"}, "invalid_move"),
    ],
    ids=["negative-seconds", "to-the-past", "to-without-offset", "not-a-number"],
)
def test_control_clock_advance_refused_answers_400_with_a_code(body: dict[str, object], code: str) -> None:
    sandbox = build_sandbox("tiny", 7, now=WALL, sink=CollectingSink(), with_trello=False)
    with TestClient(create_sandbox_app(sandbox)) as api:
        response = api.post("/_sandbox/clock/advance", json=body)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert sandbox.clock.now() == WALL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01", datetime(2026, 9, 1, tzinfo=UTC)),
        ("2026-09-01T09:30", datetime(2026, 9, 1, 9, 30, tzinfo=UTC)),
        ("2026-09-01T09:30:00+02:00", datetime(2026, 9, 1, 7, 30, tzinfo=UTC)),
    ],
    ids=["date", "naive-datetime", "offset"],
)
def test_parse_start_reads_dates_and_instants_as_utc(text: str, expected: datetime) -> None:
    assert parse_start(text) == expected


def test_serve_with_a_start_in_the_future_is_refused() -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()

    result = CliRunner().invoke(
        sandbox_app, ["serve", "--scenario", "tiny", "--start", tomorrow], env={"COLUMNS": "400"}
    )

    assert result.exit_code == 2
    assert "in the future" in result.output


def test_serve_with_a_start_that_is_no_date_is_refused() -> None:
    result = CliRunner().invoke(sandbox_app, ["serve", "--start", "last spring"], env={"COLUMNS": "400"})

    assert result.exit_code == 2
    assert "not an ISO date" in result.output


def test_a_held_clock_stands_still_then_runs_on_from_where_it_stood() -> None:
    wall = [WALL]
    clock = SandboxClock(start_at=WALL - timedelta(days=90), wall=lambda: wall[0])

    assert clock.hold(WALL - timedelta(days=90)) == WALL - timedelta(days=90)
    wall[0] += timedelta(minutes=3)
    assert clock.now() == WALL - timedelta(days=90)
    clock.run_on()
    wall[0] += timedelta(seconds=5)
    assert clock.now() == WALL - timedelta(days=90) + timedelta(seconds=5)
    with pytest.raises(ClockError, match="after now"):
        clock.hold(WALL)


def test_a_clock_on_the_wall_clock_catches_up_after_a_hold() -> None:
    wall = [WALL]
    clock = SandboxClock(wall=lambda: wall[0])

    assert clock.hold() == WALL
    wall[0] += timedelta(minutes=3)
    clock.run_on(catch_up=True)

    assert clock.now() == WALL + timedelta(minutes=3)


def test_the_same_scenario_seed_and_start_give_the_same_worlds() -> None:
    start = datetime.now(UTC) - timedelta(days=90)

    def world() -> list[tuple[object, ...]]:
        sandbox = build_sandbox("tiny", 7, start=start, sink=CollectingSink())
        assert sandbox.trello is not None
        assert sandbox.clock.now() - start < timedelta(seconds=5)  # the clock starts once they are built
        issues = sandbox.jira.issues.values()
        cards = sandbox.trello.cards.values()
        return [(i.key, i.created_ms, i.updated_ms, len(i.histories), i.duedate) for i in issues] + [
            (c.id, c.date_last_activity, c.due) for c in cards
        ]

    assert world() == world()
