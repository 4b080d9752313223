from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.app import Sandbox


def test_boards_filter_by_project_key(api: TestClient) -> None:
    body = api.get("/rest/agile/1.0/board", params={"projectKeyOrId": "ACM"}).json()
    assert body["total"] == 1
    assert body["values"][0]["location"]["projectKey"] == "ACM"


def test_board_sprints_filter_by_state(api: TestClient, sandbox: Sandbox) -> None:
    board_id = next(b.id for b in sandbox.jira.boards.values())
    body = api.get(f"/rest/agile/1.0/board/{board_id}/sprint", params={"state": "active,future"}).json()
    assert {s["state"] for s in body["values"]} <= {"active", "future"}
    assert body["values"][0]["originBoardId"] == board_id
    assert "total" not in body


def test_sprint_issues_are_the_sprints_members(api: TestClient, sandbox: Sandbox) -> None:
    sprint = next(s for s in sandbox.jira.sprints.values() if s.state == "active")
    members = {i.key for i in sandbox.jira.issues.values() if sprint.id in i.sprint_ids}
    body = api.get(f"/rest/agile/1.0/sprint/{sprint.id}/issue").json()
    assert {i["key"] for i in body["issues"]} == members
    assert body["total"] == len(members)


def test_board_issues_page_with_start_at(api: TestClient, sandbox: Sandbox) -> None:
    board_id = next(b.id for b in sandbox.jira.boards.values())
    body = api.get(f"/rest/agile/1.0/board/{board_id}/issue", params={"startAt": 10, "maxResults": 5}).json()
    assert (body["startAt"], body["total"], len(body["issues"])) == (10, 12, 2)


def test_unknown_board_answers_404(api: TestClient) -> None:
    assert api.get("/rest/agile/1.0/board/999").status_code == 404
