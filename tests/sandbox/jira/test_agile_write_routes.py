"""Boards and sprints written through the agile API: creation, the sprint's states, issues moved into
a sprint (a change of their Sprint field), validation in Jira's error shape, the webhooks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from sandbox.app import Sandbox
from sandbox.emit import CollectingSink
from sandbox.jira.model import Issue, Sprint
from sandbox.jira.planning import SprintChanges
from sandbox.jira.webhooks import PLAN_EVENTS

START = "2026-03-02T09:00:00.000+00:00"
END = "2026-03-16T09:00:00.000+00:00"


@pytest.fixture
def listening(sandbox: Sandbox) -> None:
    sandbox.jira.webhooks.register(url="https://agency.example/hook", events=PLAN_EVENTS, jql=None)


def _events(deliveries: CollectingSink) -> list[str]:
    return [str(orjson.loads(d.body)["webhookEvent"]) for d in deliveries.deliveries]


def _board(sandbox: Sandbox) -> int:
    return min(b.id for b in sandbox.jira.boards.values() if b.type == "scrum")


def _future(sandbox: Sandbox, *, dated: bool = True) -> Sprint:
    start = sandbox.jira.now_ms()
    dates = {"start_ms": start, "end_ms": start + 14 * 86_400_000} if dated else {}
    return sandbox.jira.create_sprint(_board(sandbox), "Delivery 20", **dates)


def _issue(sandbox: Sandbox, summary: str = "Story") -> Issue:
    project = sandbox.jira.projects[sandbox.jira.project_by_key["ACM"]]
    return sandbox.jira.create_issue(project, summary=summary)


def test_create_board_binds_it_to_the_project(api: TestClient, sandbox: Sandbox) -> None:
    response = api.post(
        "/rest/agile/1.0/board",
        json={"name": "Delivery", "type": "scrum", "location": {"type": "project", "projectKeyOrId": "BOR"}},
    )

    assert response.status_code == 201
    listed = api.get("/rest/agile/1.0/board", params={"projectKeyOrId": "BOR"}).json()["values"]
    assert response.json()["id"] in {b["id"] for b in listed}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "scrum", "location": {"projectKeyOrId": "ACM"}}, "name"),
        ({"name": "B", "type": "agility", "location": {"projectKeyOrId": "ACM"}}, "type"),
        ({"name": "B", "type": "scrum"}, "location"),
        ({"name": "B", "type": "scrum", "location": {"projectKeyOrId": "NOPE"}}, "location"),
    ],
    ids=["no-name", "bad-type", "no-location", "unknown-project"],
)
def test_create_board_refused_answers_400_and_creates_nothing(
    api: TestClient, sandbox: Sandbox, body: dict[str, Any], field: str
) -> None:
    before = set(sandbox.jira.boards)

    response = api.post("/rest/agile/1.0/board", json=body)

    assert (response.status_code, field in response.json()["errors"]) == (400, True)
    assert set(sandbox.jira.boards) == before


def test_create_sprint_is_future_with_its_dates_and_sends_sprint_created(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, listening: None
) -> None:
    body = {"name": "Delivery 20", "originBoardId": _board(sandbox), "startDate": START, "endDate": END}

    response = api.post("/rest/agile/1.0/sprint", json={**body, "goal": "Checkout"})

    assert response.status_code == 201
    sprint = response.json()
    assert (sprint["state"], sprint["startDate"], sprint["endDate"], sprint["goal"]) == (
        "future",
        START,
        END,
        "Checkout",
    )
    assert "completeDate" not in sprint
    assert _events(deliveries) == ["sprint_created"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"originBoardId": 1}, 400),
        ({"name": "S"}, 400),
        ({"name": "S", "originBoardId": 1, "startDate": END, "endDate": START}, 400),
        ({"name": "S", "originBoardId": 1, "startDate": "next monday"}, 400),
        ({"name": "S", "originBoardId": 1, "state": "active"}, 400),
        ({"name": "S", "originBoardId": 999}, 404),
    ],
    ids=["no-name", "no-board", "ends-before-start", "bad-date", "unknown-field", "unknown-board"],
)
def test_create_sprint_refused_creates_nothing(
    api: TestClient,
    sandbox: Sandbox,
    deliveries: CollectingSink,
    listening: None,
    body: dict[str, Any],
    status: int,
) -> None:
    before = set(sandbox.jira.sprints)

    response = api.post("/rest/agile/1.0/sprint", json=body)

    assert response.status_code == status
    assert response.json()["errorMessages"] or response.json()["errors"]
    assert set(sandbox.jira.sprints) == before
    assert deliveries.deliveries == []


def test_create_sprint_on_a_kanban_board_is_refused(api: TestClient, sandbox: Sandbox) -> None:
    kanban = sandbox.jira.create_board(sandbox.jira.project_by_key["ACM"], "Flow", board_type="kanban")

    response = api.post("/rest/agile/1.0/sprint", json={"name": "S", "originBoardId": kanban.id})

    assert response.status_code == 400


def test_sprint_started_then_closed_stamps_complete_date_with_the_clock(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, listening: None
) -> None:
    sprint = _future(sandbox)
    api.post(f"/rest/agile/1.0/sprint/{sprint.id}", json={"state": "active"})
    sandbox.clock.advance(timedelta(days=13))

    response = api.post(f"/rest/agile/1.0/sprint/{sprint.id}", json={"state": "closed"})

    assert response.json()["state"] == "closed"
    assert sprint.complete_ms == sandbox.jira.now_ms()
    assert response.json()["completeDate"].startswith("2026-03-15T09:00:00.000")
    assert _events(deliveries) == ["sprint_created", "sprint_started", "sprint_closed"]


def test_sprint_edited_sends_sprint_updated_with_the_old_value(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, listening: None
) -> None:
    sprint = _future(sandbox)

    api.post(f"/rest/agile/1.0/sprint/{sprint.id}", json={"goal": "Ship the checkout", "endDate": END})

    payload = orjson.loads(deliveries.deliveries[-1].body)
    assert payload["webhookEvent"] == "sprint_updated"
    assert (payload["oldValue"]["goal"], payload["sprint"]["goal"]) == ("", "Ship the checkout")
    assert payload["sprint"]["endDate"] == END


def test_sprint_put_clears_what_it_does_not_name(api: TestClient, sandbox: Sandbox) -> None:
    sprint = _future(sandbox)
    sprint.goal = "Old goal"

    response = api.put(f"/rest/agile/1.0/sprint/{sprint.id}", json={"name": "Renamed", "state": "future"})

    assert response.status_code == 200
    assert (sprint.name, sprint.goal, sprint.start_ms, sprint.end_ms) == ("Renamed", "", None, None)


@pytest.mark.parametrize(
    ("start_state", "body"),
    [
        ("future", {"state": "closed"}),
        ("future", {"state": "done"}),
        ("active", {"state": "future"}),
        ("closed", {"state": "active"}),
        ("closed", {"endDate": "2026-03-20T09:00:00.000+00:00"}),
        ("future", {"startDate": END, "endDate": START}),
        ("future", {"completedOn": END}),
        ("future", {"name": ""}),
    ],
    ids=[
        "future-to-closed",
        "unknown-state",
        "active-to-future",
        "reopen",
        "closed-dates",
        "ends-before-start",
        "unknown-field",
        "empty-name",
    ],
)
def test_sprint_update_refused_answers_400_and_changes_nothing(
    api: TestClient,
    sandbox: Sandbox,
    deliveries: CollectingSink,
    listening: None,
    start_state: str,
    body: dict[str, Any],
) -> None:
    sprint = _future(sandbox)
    if start_state != "future":
        sandbox.jira.update_sprint(sprint, _state("active"))
    if start_state == "closed":
        sandbox.jira.update_sprint(sprint, _state("closed"))
    before = (sprint.name, sprint.state, sprint.start_ms, sprint.end_ms, sprint.complete_ms)
    deliveries.deliveries.clear()

    response = api.post(f"/rest/agile/1.0/sprint/{sprint.id}", json=body)

    assert response.status_code == 400
    assert response.json()["errorMessages"] or response.json()["errors"]
    assert (sprint.name, sprint.state, sprint.start_ms, sprint.end_ms, sprint.complete_ms) == before
    assert deliveries.deliveries == []


def _state(state: str) -> SprintChanges:
    return SprintChanges(state=state)


def test_sprint_started_without_dates_is_refused(api: TestClient, sandbox: Sandbox) -> None:
    sprint = _future(sandbox, dated=False)

    response = api.post(f"/rest/agile/1.0/sprint/{sprint.id}", json={"state": "active"})

    assert response.status_code == 400
    assert sprint.state == "future"


def test_move_issues_records_a_sprint_change_in_each_changelog(api: TestClient, sandbox: Sandbox) -> None:
    sprint = _future(sandbox)
    first, second = _issue(sandbox, "First"), _issue(sandbox, "Second")

    response = api.post(
        f"/rest/agile/1.0/sprint/{sprint.id}/issue", json={"issues": [first.key, str(second.id)]}
    )

    assert response.status_code == 204
    for issue in (first, second):
        items = api.get(f"/rest/api/3/issue/{issue.key}/changelog").json()["values"][-1]["items"]
        assert items == [
            {
                "field": "Sprint",
                "fieldtype": "custom",
                "fieldId": "customfield_10020",
                "from": None,
                "fromString": None,
                "to": str(sprint.id),
                "toString": "Delivery 20",
            }
        ]


def test_move_issues_keeps_closed_sprints_and_leaves_open_ones(api: TestClient, sandbox: Sandbox) -> None:
    closed, planned, following = _future(sandbox), _future(sandbox), _future(sandbox)
    issue = _issue(sandbox)
    sandbox.jira.move_issues_to_sprint(closed, [issue])
    sandbox.jira.update_sprint(closed, _state("active"))
    sandbox.jira.update_sprint(closed, _state("closed"))
    sandbox.jira.move_issues_to_sprint(planned, [issue])

    api.post(f"/rest/agile/1.0/sprint/{following.id}/issue", json={"issues": [issue.key]})

    item = issue.histories[-1].items[0]
    assert (item.from_, item.to) == (f"{closed.id}, {planned.id}", f"{closed.id}, {following.id}")
    assert issue.sprint_ids == [closed.id, following.id]


def test_move_issues_already_in_the_sprint_records_nothing(api: TestClient, sandbox: Sandbox) -> None:
    sprint = _future(sandbox)
    issue = _issue(sandbox)
    sandbox.jira.move_issues_to_sprint(sprint, [issue])
    histories = len(issue.histories)

    response = api.post(f"/rest/agile/1.0/sprint/{sprint.id}/issue", json={"issues": [issue.key]})

    assert (response.status_code, len(issue.histories)) == (204, histories)


@pytest.mark.parametrize(
    "body",
    [{"issues": []}, {"issues": "ACM-1"}, {"issues": ["ACM-1"] * 51}, {"issues": ["{first}", "NOPE-1"]}],
    ids=["empty", "not-a-list", "over-fifty", "one-unknown"],
)
def test_move_issues_refused_moves_none(api: TestClient, sandbox: Sandbox, body: dict[str, Any]) -> None:
    sprint = _future(sandbox)
    first = _issue(sandbox)
    if isinstance(body["issues"], list):
        body = {"issues": [first.key if ref == "{first}" else ref for ref in body["issues"]]}

    response = api.post(f"/rest/agile/1.0/sprint/{sprint.id}/issue", json=body)

    assert response.status_code == 400
    assert response.json()["errorMessages"] or response.json()["errors"]
    assert first.sprint_ids == []


def test_move_issues_into_a_closed_sprint_is_refused(api: TestClient, sandbox: Sandbox) -> None:
    sprint = next(s for s in sandbox.jira.sprints.values() if s.state == "closed")
    issue = _issue(sandbox)

    response = api.post(f"/rest/agile/1.0/sprint/{sprint.id}/issue", json={"issues": [issue.key]})

    assert response.status_code == 400
    assert issue.sprint_ids == []
