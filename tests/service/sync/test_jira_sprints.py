"""Jira sprints read from the boards against the sandbox over loopback, and the sprint facts read from
the synced history: carried-over work and items added after a sprint started."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sandbox.jira.changes import IssueChanges
from sandbox.jira.model import Issue, Sprint
from service.domain.enums import MilestoneKind, SourceKind
from service.domain.work import Milestone
from service.flags.facts import ProjectSnapshot, load_project_snapshot
from service.rules.facts import SprintFacts
from service.store.orm import ProjectRow
from service.store.runtime import Store
from service.store.work_scan import read_project_milestones
from service.sync.runs import sync_source_now
from tests.support.jira_sandbox import JiraSandbox, serve_jira_sandbox
from tests.support.sources import add_test_source

BOARD_SPRINTS = "GET /rest/agile/1.0/board/{board_id}/sprint"
SPRINT = "GET /rest/agile/1.0/sprint/{sprint_id}"
BOARDS = "GET /rest/agile/1.0/board"


def add_source(store: Store, jira: JiraSandbox) -> int:
    sandbox = jira.sandbox
    return add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="sandbox-jira",
        webhook_secret=sandbox.jira_webhook_secret,
        base_url=jira.base_url,
        credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
    )


@dataclass
class History:
    """A delivery team's month, made in the sandbox as Jira records it.

    A, C and an old item D exist a month before sprint 11. A and C are put in sprint 11 before it
    starts; B (as old) is added two days after the start. C is done before sprint 11 closes; A and B
    are not, and move on to sprint 12 (Jira keeps the closed sprint in the field: "11" -> "11, 12"),
    which then starts; D is added to sprint 12 a day after its start. Sprint 13 is planned, empty.
    """

    jira: JiraSandbox
    project_key: str
    a: Issue
    b: Issue
    c: Issue
    d: Issue
    s11: Sprint
    s12: Sprint
    s13: Sprint


def _move(jira: JiraSandbox, by: timedelta) -> int:
    jira.sandbox.clock.advance(by)
    return jira.sandbox.jira.now_ms()


def build_history(jira: JiraSandbox) -> History:
    world = jira.sandbox.jira
    with world.lock:
        project = min(world.projects.values(), key=lambda p: p.id)
        a, b, c, d = (world.create_issue(project, summary=f"Story {name}") for name in "ABCD")
        _move(jira, timedelta(days=30))
        board = world.add_board(project.id, "Delivery board")
        s11 = world.add_sprint(board.id, "Delivery 11", "future")
        s12 = world.add_sprint(board.id, "Delivery 12", "future")
        s13 = world.add_sprint(board.id, "Delivery 13", "future", goal="Polish the checkout")
        world.update_issue(a, IssueChanges(sprint_ids=(s11.id,)))
        world.update_issue(c, IssueChanges(sprint_ids=(s11.id,)))
        start = _move(jira, timedelta(hours=1))
        s11.state, s11.start_ms, s11.end_ms = "active", start, start + 14 * 86_400_000
        _move(jira, timedelta(days=2))
        world.update_issue(b, IssueChanges(sprint_ids=(s11.id,)))
        _move(jira, timedelta(days=10))
        world.update_issue(c, IssueChanges(status="Done"))
        close = _move(jira, timedelta(days=2))
        s11.state, s11.complete_ms = "closed", close
        world.update_issue(a, IssueChanges(sprint_ids=(s11.id, s12.id)))
        world.update_issue(b, IssueChanges(sprint_ids=(s11.id, s12.id)))
        start = _move(jira, timedelta(hours=2))
        s12.state, s12.start_ms, s12.end_ms = "active", start, start + 14 * 86_400_000
        _move(jira, timedelta(days=1))
        world.update_issue(d, IssueChanges(sprint_ids=(s12.id,)))
        _move(jira, timedelta(hours=1))
    return History(jira, project.key, a, b, c, d, s11, s12, s13)


@pytest.fixture
def jira() -> Iterator[JiraSandbox]:
    with serve_jira_sandbox("tiny", seed=7) as served:
        yield served


def snapshot(store: Store, history: History) -> ProjectSnapshot:
    now = history.jira.sandbox.clock.now()
    with store.sessions() as session:
        project_id = session.scalars(select(ProjectRow.id).where(ProjectRow.key == history.project_key)).one()
        return load_project_snapshot(session, project_id=project_id, now=now)


def sprint_facts(snap: ProjectSnapshot, sprint: Sprint) -> SprintFacts:
    found = next(m for m in snap.milestones if m.milestone.external_id == f"sprint:{sprint.id}")
    assert found.sprint is not None
    return found.sprint


def milestones_by_id(store: Store, history: History) -> dict[str, Milestone]:
    with store.sessions() as session:
        project_id = session.scalars(select(ProjectRow.id).where(ProjectRow.key == history.project_key)).one()
        return {m.external_id: m for m in read_project_milestones(session, project_id=project_id)}


def test_full_sync_reads_every_sprint_of_the_boards_with_state_dates_and_goal(
    dialect_store: Store, jira: JiraSandbox
) -> None:
    history = build_history(jira)
    source_id = add_source(dialect_store, jira)

    summary = sync_source_now(dialect_store, source_id=source_id, full=True)

    assert summary.status == "succeeded"
    calls = summary.api_calls["by_endpoint"]
    world = jira.sandbox.jira
    assert calls[BOARDS] == {"200": 1}
    assert calls[BOARD_SPRINTS] == {"200": len(world.boards)}
    stored = milestones_by_id(dialect_store, history)
    s11, s12, s13 = (stored[f"sprint:{s.id}"] for s in (history.s11, history.s12, history.s13))
    assert all(m.kind is MilestoneKind.SPRINT for m in (s11, s12, s13))
    # Named by no issue: read from the board alone.
    assert (s13.name, s13.state, s13.goal, s13.started_at, s13.completed_at) == (
        "Delivery 13",
        "future",
        "Polish the checkout",
        None,
        None,
    )
    assert history.s11.complete_ms is not None and history.s11.start_ms is not None
    assert s11.state == "closed" and s11.released
    assert s11.completed_at == datetime.fromtimestamp(history.s11.complete_ms / 1000, tz=UTC)
    assert s11.started_at == datetime.fromtimestamp(history.s11.start_ms / 1000, tz=UTC)
    assert s11.start_date == s11.started_at.date()
    assert (s12.state, s12.released, s12.completed_at) == ("active", False, None)
    # Every sprint of every board of the synced projects, and no other.
    sprint_ids = {m.external_id for m in stored.values() if m.kind is MilestoneKind.SPRINT}
    project = world.projects[history.a.project_id]
    boards = {b.id for b in world.boards.values() if b.project_id == project.id}
    assert sprint_ids == {f"sprint:{s.id}" for s in world.sprints.values() if s.board_id in boards}


def test_incremental_sync_reads_open_sprints_and_each_one_closed_since_by_id(
    store: Store, jira: JiraSandbox
) -> None:
    history = build_history(jira)
    source_id = add_source(store, jira)
    sync_source_now(store, source_id=source_id, full=True)
    world = jira.sandbox.jira
    with world.lock:
        closed_at = _move(jira, timedelta(days=13))
        history.s12.state, history.s12.complete_ms = "closed", closed_at
        history.s13.goal = "Ship the checkout"
        s14 = world.add_sprint(history.s12.board_id, "Delivery 14", "future")

    summary = sync_source_now(store, source_id=source_id, full=False)

    calls = summary.api_calls["by_endpoint"]
    assert BOARDS not in calls
    assert calls[BOARD_SPRINTS] == {"200": len(world.boards)}
    assert calls[SPRINT] == {"200": 1}  # sprint 12, open at the last run and closed since
    stored = milestones_by_id(store, history)
    s12 = stored[f"sprint:{history.s12.id}"]
    assert (s12.state, s12.released) == ("closed", True)
    assert s12.completed_at is not None and s12.completed_at.timestamp() * 1000 == closed_at
    assert stored[f"sprint:{history.s13.id}"].goal == "Ship the checkout"
    assert stored[f"sprint:{s14.id}"].state == "future"

    again = sync_source_now(store, source_id=source_id, full=False)

    assert SPRINT not in again.api_calls["by_endpoint"]


def test_sprint_facts_of_a_synced_history_carry_over_and_added_after_start(
    dialect_store: Store, jira: JiraSandbox
) -> None:
    history = build_history(jira)
    source_id = add_source(dialect_store, jira)
    sync_source_now(dialect_store, source_id=source_id, full=True)

    snap = snapshot(dialect_store, history)

    s11 = sprint_facts(snap, history.s11)
    assert s11.items_at_start == tuple(sorted((history.a.key, history.c.key)))
    assert [a.item_key for a in s11.added_after_start] == [history.b.key]
    assert s11.carried_over == ()
    s12 = sprint_facts(snap, history.s12)
    assert s12.items_at_start == tuple(sorted((history.a.key, history.b.key)))
    assert [a.item_key for a in s12.added_after_start] == [history.d.key]
    assert s12.carried_over == tuple(sorted((history.a.key, history.b.key)))
    s13 = sprint_facts(snap, history.s13)
    assert (s13.items_at_start, s13.added_after_start, s13.carried_over) == ((), (), ())


def test_a_synced_small_agency_has_carried_over_sprint_work(store: Store) -> None:
    with serve_jira_sandbox("small", seed=11) as jira:
        source_id = add_source(store, jira)
        sync_source_now(store, source_id=source_id, full=True)
        now = jira.sandbox.clock.now()

    carried: list[str] = []
    added: list[str] = []
    with store.sessions() as session:
        for project_id in session.scalars(select(ProjectRow.id)):
            for facts in load_project_snapshot(session, project_id=project_id, now=now).milestones:
                if facts.sprint is not None:
                    carried += facts.sprint.carried_over
                    added += [a.item_key for a in facts.sprint.added_after_start]

    assert len(carried) > 10
    assert added


def test_a_closed_sprint_named_by_another_projects_issue_stays_in_its_boards_project(
    store: Store, jira: JiraSandbox
) -> None:
    history = build_history(jira)
    source_id = add_source(store, jira)
    sync_source_now(store, source_id=source_id, full=True)
    world = jira.sandbox.jira
    with world.lock:
        other = max(world.projects.values(), key=lambda p: p.id)
        assert other.key != history.project_key
        stray = world.create_issue(other, summary="Helps the other team")
        world.update_issue(stray, IssueChanges(sprint_ids=(history.s11.id,)))

    summary = sync_source_now(store, source_id=source_id, full=False)

    assert summary.items_changed == 1
    assert f"sprint:{history.s11.id}" in milestones_by_id(store, history)


def test_a_site_whose_boards_cannot_be_read_syncs_the_sprints_its_issues_name(
    store: Store, jira: JiraSandbox
) -> None:
    history = build_history(jira)
    source_id = add_source(store, jira)
    # Jira Cloud answers 403 to a user without a Jira Software licence (agile description).
    jira.control("POST", "/faults", {"route": BOARDS, "kind": "error", "status": 403})

    summary = sync_source_now(store, source_id=source_id, full=True)

    assert summary.status == "succeeded"
    assert BOARD_SPRINTS not in summary.api_calls["by_endpoint"]
    stored = milestones_by_id(store, history)
    assert stored[f"sprint:{history.s12.id}"].state == "active"  # named by A, B and D
    assert f"sprint:{history.s13.id}" not in stored  # named by no issue
