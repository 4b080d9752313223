"""A delivery history replayed into a sandbox whose clock starts 90 days ago, only through its HTTP
APIs (Jira's REST writes and the control API), then seen by pmbridge: a full sync, then an incremental
sync with the webhooks Jira sent in between.

The plan: Ada leads a new project NEW with a version "Launch" due on day 30 and a scrum board. A and B
are put in sprint 1 before it starts on day 1; C is added on day 3; A is done on day 8. On day 11 the
release moves to day 44 and B's promised date with it. Sprint 1 closes on day 14 with B and C open;
they move on to sprint 2, which starts half a day later; D joins it on day 15.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.domain.enums import MilestoneKind, SourceKind
from service.domain.work import Milestone
from service.flags.facts import ProjectSnapshot, load_project_snapshot
from service.rules.facts import SprintFacts
from service.store.orm import ProjectRow
from service.store.runtime import Store
from service.store.work_scan import read_project_milestones
from service.sync.runs import sync_source_now
from tests.service.sync.test_jira_deliveries import deliver, process_all
from tests.support.jira_sandbox import JiraSandbox, serve_jira_sandbox
from tests.support.sources import add_test_source

DAY = timedelta(days=1)
# The sandbox clock runs on between the replay's steps: how far past its planned instant a step may land.
SLACK = timedelta(seconds=30)


@pytest.fixture
def replay() -> Iterator[JiraSandbox]:
    with serve_jira_sandbox("tiny", seed=7, start=datetime.now(UTC) - 90 * DAY) as served:
        yield served


@dataclass
class Plan:
    """What the replay made, by the ids and keys the sandbox gave."""

    jira: JiraSandbox
    day0: datetime
    lead: str
    version: str
    sprint1: int
    sprint2: int
    keys: dict[str, str]

    def day(self, n: int) -> date:
        return (self.day0 + n * DAY).date()

    def at(self, n: float) -> str:
        return (self.day0 + n * DAY).isoformat()


class Driver:
    """The simulation's side: Jira's REST API as the integration user, the control API, the clock."""

    def __init__(self, jira: JiraSandbox) -> None:
        sandbox = jira.sandbox
        self.jira = jira
        self.rest = httpx.Client(
            base_url=jira.base_url, auth=(sandbox.jira_email, sandbox.jira_api_token), timeout=10
        )

    def write(self, method: str, path: str, body: dict[str, Any], status: int) -> Any:
        response = self.rest.request(method, path, json=body)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.jira.control(method, path, body).json()

    def read(self, path: str) -> Any:
        response = self.rest.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def advance_to(self, plan_start: datetime, day: float) -> None:
        self.control("POST", "/clock/advance", {"to": (plan_start + day * DAY).isoformat()})

    def move_to_sprint(self, sprint_id: int, *keys: str) -> None:
        self.write("POST", f"/rest/agile/1.0/sprint/{sprint_id}/issue", {"issues": list(keys)}, 204)


def replay_until_first_sync(driver: Driver) -> Plan:
    # Whole seconds: the instants pmbridge reads back are Jira's, to the millisecond.
    day0 = datetime.fromisoformat(driver.control("GET", "/")["now"]).replace(microsecond=0)
    lead = driver.control(
        "POST", "/jira/users", {"displayName": "Ada Lovelace", "email": "ada@agency.example"}
    )
    project = driver.write(
        "POST",
        "/rest/api/3/project",
        {
            "key": "NEW",
            "name": "New client",
            "leadAccountId": lead["accountId"],
            "projectTypeKey": "software",
        },
        201,
    )
    plan = Plan(driver.jira, day0, lead["accountId"], "", 0, 0, {})
    version = driver.write(
        "POST",
        "/rest/api/3/version",
        {
            "name": "Launch",
            "projectId": project["id"],
            "startDate": plan.day(0).isoformat(),
            "releaseDate": plan.day(30).isoformat(),
        },
        201,
    )
    board = driver.write(
        "POST",
        "/rest/agile/1.0/board",
        {"name": "NEW board", "type": "scrum", "location": {"type": "project", "projectKeyOrId": "NEW"}},
        201,
    )
    sprint = driver.write(
        "POST",
        "/rest/agile/1.0/sprint",
        {"name": "NEW 1", "originBoardId": board["id"], "startDate": plan.at(1), "endDate": plan.at(14)},
        201,
    )
    plan.version, plan.sprint1 = version["id"], sprint["id"]
    for name in "ABCD":
        plan.keys[name] = driver.control(
            "POST", "/jira/issues", {"project": "NEW", "summary": f"Story {name}"}
        )["key"]
    for name in "ABC":
        driver.control(
            "PATCH",
            f"/jira/issues/{plan.keys[name]}",
            {"fixVersions": [int(version["id"])], "duedate": plan.day(30).isoformat(), "assignee": plan.lead},
        )
    driver.move_to_sprint(plan.sprint1, plan.keys["A"], plan.keys["B"])
    driver.advance_to(day0, 1)
    driver.write("POST", f"/rest/agile/1.0/sprint/{plan.sprint1}", {"state": "active"}, 200)
    driver.advance_to(day0, 3)
    driver.move_to_sprint(plan.sprint1, plan.keys["C"])
    driver.advance_to(day0, 8)
    driver.control("POST", f"/jira/issues/{plan.keys['A']}/status", {"status": "Done"})
    return plan


def replay_after_first_sync(driver: Driver, plan: Plan) -> None:
    driver.advance_to(plan.day0, 11)
    driver.write("PUT", f"/rest/api/3/version/{plan.version}", {"releaseDate": plan.day(44).isoformat()}, 200)
    driver.control("POST", f"/jira/issues/{plan.keys['B']}/duedate", {"duedate": plan.day(44).isoformat()})
    driver.advance_to(plan.day0, 14)
    driver.write("POST", f"/rest/agile/1.0/sprint/{plan.sprint1}", {"state": "closed"}, 200)
    board_id = driver.read(f"/rest/agile/1.0/sprint/{plan.sprint1}")["originBoardId"]
    sprint = driver.write("POST", "/rest/agile/1.0/sprint", {"name": "NEW 2", "originBoardId": board_id}, 201)
    plan.sprint2 = sprint["id"]
    driver.move_to_sprint(plan.sprint2, plan.keys["B"], plan.keys["C"])
    driver.advance_to(plan.day0, 14.5)
    driver.write(
        "POST",
        f"/rest/agile/1.0/sprint/{plan.sprint2}",
        {"state": "active", "startDate": plan.at(14.5), "endDate": plan.at(28)},
        200,
    )
    driver.advance_to(plan.day0, 15)
    driver.move_to_sprint(plan.sprint2, plan.keys["D"])
    driver.advance_to(plan.day0, 16)


def add_source(store: Store, jira: JiraSandbox) -> int:
    sandbox = jira.sandbox
    return add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="replayed-jira",
        webhook_secret=sandbox.jira_webhook_secret,
        base_url=jira.base_url,
        credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
    )


def milestones(store: Store) -> dict[str, Milestone]:
    with store.sessions() as session:
        project_id = session.scalars(select(ProjectRow.id).where(ProjectRow.key == "NEW")).one()
        return {m.name: m for m in read_project_milestones(session, project_id=project_id)}


def snapshot(store: Store, plan: Plan) -> ProjectSnapshot:
    with store.sessions() as session:
        project_id = session.scalars(select(ProjectRow.id).where(ProjectRow.key == "NEW")).one()
        return load_project_snapshot(session, project_id=project_id, now=plan.jira.sandbox.clock.now())


def sprint_facts(snap: ProjectSnapshot, sprint_id: int) -> SprintFacts:
    found = next(m for m in snap.milestones if m.milestone.external_id == f"sprint:{sprint_id}")
    assert found.sprint is not None
    return found.sprint


def test_a_plan_replayed_into_a_past_clock_is_seen_by_a_full_then_an_incremental_sync(
    app_client: TestClient, app_store: Store, replay: JiraSandbox
) -> None:
    driver = Driver(replay)
    plan = replay_until_first_sync(driver)
    source_id = add_source(app_store, replay)

    first = sync_source_now(app_store, source_id=source_id, full=True)

    assert first.status == "succeeded"
    with app_store.sessions() as session:
        project = session.scalars(select(ProjectRow).where(ProjectRow.key == "NEW")).one()
        assert project.name == "New client"
    stored = milestones(app_store)
    launch, sprint1 = stored["Launch"], stored["NEW 1"]
    assert (launch.kind, launch.start_date, launch.due_date) == (
        MilestoneKind.VERSION,
        plan.day(0),
        plan.day(30),
    )
    assert (sprint1.kind, sprint1.state, sprint1.started_at) == (
        MilestoneKind.SPRINT,
        "active",
        plan.day0 + DAY,
    )

    replay.control("POST", "/jira/webhooks", {"url": f"http://pmbridge.invalid/webhooks/jira/{source_id}"})
    replay.sink.deliveries.clear()
    replay_after_first_sync(driver, plan)
    second = sync_source_now(app_store, source_id=source_id, full=False)
    for delivery in replay.sink.deliveries:
        deliver(app_client, delivery)
    process_all(app_store)

    assert second.status == "succeeded"
    stored = milestones(app_store)
    assert stored["Launch"].due_date == plan.day(44)  # jira:version_updated, between full syncs
    sprint1, sprint2 = stored["NEW 1"], stored["NEW 2"]
    assert sprint1.state == "closed" and sprint1.completed_at is not None
    assert timedelta(0) <= sprint1.completed_at - (plan.day0 + 14 * DAY) < SLACK
    assert (sprint2.state, sprint2.started_at, sprint2.due_date) == (
        "active",
        plan.day0 + 14.5 * DAY,
        plan.day(28),
    )

    snap = snapshot(app_store, plan)
    keys = plan.keys
    promise = next(f.commitment for f in snap.items if f.item.key == keys["B"])
    assert promise is not None
    assert (promise.baseline_date, promise.current_date) == (plan.day(30), plan.day(44))
    (move,) = promise.moves
    assert (move.from_date, move.to_date) == (plan.day(30), plan.day(44))
    assert timedelta(0) <= move.moved_at - (plan.day0 + 11 * DAY) < SLACK
    first_sprint = sprint_facts(snap, plan.sprint1)
    assert first_sprint.items_at_start == tuple(sorted((keys["A"], keys["B"])))
    assert [a.item_key for a in first_sprint.added_after_start] == [keys["C"]]
    assert first_sprint.carried_over == ()
    second_sprint = sprint_facts(snap, plan.sprint2)
    assert second_sprint.items_at_start == tuple(sorted((keys["B"], keys["C"])))
    assert second_sprint.carried_over == tuple(sorted((keys["B"], keys["C"])))
    assert [a.item_key for a in second_sprint.added_after_start] == [keys["D"]]


def test_a_replayed_history_ends_before_the_wall_clock(replay: JiraSandbox) -> None:
    driver = Driver(replay)

    replay_until_first_sync(driver)

    world = replay.sandbox.jira
    with world.lock:
        latest = max(h.created_ms for issue in world.issues.values() for h in issue.histories)
    assert datetime.fromtimestamp(latest / 1000, UTC) < datetime.now(UTC) - 80 * DAY
