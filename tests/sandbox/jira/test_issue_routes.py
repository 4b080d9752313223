from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from sandbox.app import Sandbox
from sandbox.jira.changes import IssueChanges
from sandbox.jira.model import Issue
from sandbox.jira.routes import jira_routes


def _busy_issue(sandbox: Sandbox, new_issue: Callable[..., Issue], changes: int) -> Issue:
    issue = new_issue()
    for n in range(changes):
        sandbox.clock.advance(timedelta(minutes=1))
        sandbox.jira.update_issue(issue, IssueChanges(story_points=float(n + 1)))
    return issue


def test_get_issue_defaults_to_all_fields_with_jira_formats(api: TestClient, sandbox: Sandbox) -> None:
    body = api.get("/rest/api/3/issue/ACM-1").json()
    fields = body["fields"]
    assert body["key"] == "ACM-1"
    assert body["self"] == f"https://sandbox.test/rest/api/3/issue/{body['id']}"
    assert {"summary", "status", "comment", "worklog", "customfield_10020", "customfield_10021"} <= set(
        fields
    )
    assert fields["created"].endswith("+0000")
    assert len(fields["created"]) == len("2024-09-12T19:21:32.992+0000")
    assert fields["status"]["statusCategory"]["key"] in {"new", "indeterminate", "done"}
    assert fields["project"]["key"] == "ACM"


def test_get_issue_v3_description_is_adf_and_v2_is_text(
    api: TestClient, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    issue.description = "Line one"
    v3 = api.get(f"/rest/api/3/issue/{issue.key}", params={"fields": "description"}).json()["fields"]
    v2 = api.get(f"/rest/api/2/issue/{issue.key}", params={"fields": "description"}).json()["fields"]
    assert v3["description"]["type"] == "doc"
    assert v2["description"] == "Line one"


def test_get_issue_by_id_and_lowercase_key_finds_the_issue(api: TestClient, sandbox: Sandbox) -> None:
    issue_id = str(sandbox.jira.issue_by_key["ACM-2"])
    assert api.get(f"/rest/api/3/issue/{issue_id}").json()["key"] == "ACM-2"
    assert api.get("/rest/api/3/issue/acm-2").json()["id"] == issue_id


def test_get_issue_unknown_answers_404_body(api: TestClient) -> None:
    response = api.get("/rest/api/3/issue/ACM-999")
    assert response.status_code == 404
    assert response.json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }


def test_get_issue_expand_changelog_keeps_latest_100(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = _busy_issue(sandbox, new_issue, 105)
    changelog = api.get(f"/rest/api/3/issue/{issue.key}", params={"expand": "changelog"}).json()["changelog"]
    assert (changelog["total"], len(changelog["histories"])) == (105, 100)
    assert changelog["histories"][0]["id"] == str(issue.histories[5].id)


def test_get_changelog_pages_oldest_first_with_next_page(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = _busy_issue(sandbox, new_issue, 7)
    first = api.get(f"/rest/api/3/issue/{issue.key}/changelog", params={"maxResults": 5}).json()
    second = api.get(
        f"/rest/api/3/issue/{issue.key}/changelog", params={"maxResults": 5, "startAt": 5}
    ).json()
    assert (first["total"], first["isLast"], len(first["values"])) == (7, False, 5)
    assert first["nextPage"].endswith("startAt=5")
    assert (second["isLast"], len(second["values"])) == (True, 2)
    assert "nextPage" not in second
    assert first["values"][0]["items"][0]["toString"] == "1"


def test_get_changelog_caps_page_at_100(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = _busy_issue(sandbox, new_issue, 101)
    body = api.get(f"/rest/api/3/issue/{issue.key}/changelog", params={"maxResults": 1000}).json()
    assert (body["maxResults"], len(body["values"])) == (100, 100)


def test_changelog_list_returns_requested_histories(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = _busy_issue(sandbox, new_issue, 3)
    wanted = [issue.histories[0].id, issue.histories[2].id]
    body = api.post(f"/rest/api/3/issue/{issue.key}/changelog/list", json={"changelogIds": wanted}).json()
    assert [int(v["id"]) for v in body["histories"]] == wanted
    assert (body["startAt"], body["maxResults"], body["total"]) == (0, 2, 2)


def test_bulk_changelog_orders_by_date_then_issue_and_pages(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    first, second = new_issue("one"), new_issue("two")
    for n in range(3):
        sandbox.clock.advance(timedelta(minutes=1))
        sandbox.jira.update_issue(second, IssueChanges(duedate=f"2026-05-0{n + 1}"))
        sandbox.jira.update_issue(first, IssueChanges(duedate=f"2026-06-0{n + 1}"))
    request = {"issueIdsOrKeys": [first.key, str(second.id)], "maxResults": 4}
    page = api.post("/rest/api/3/changelog/bulkfetch", json=request).json()
    rest = api.post(
        "/rest/api/3/changelog/bulkfetch", json={**request, "nextPageToken": page["nextPageToken"]}
    ).json()
    assert [(log["issueId"], len(log["changeHistories"])) for log in page["issueChangeLogs"]] == [
        (str(first.id), 2),
        (str(second.id), 2),
    ]
    assert "nextPageToken" not in rest
    assert sum(len(log["changeHistories"]) for log in rest["issueChangeLogs"]) == 2


def test_bulk_changelog_field_filter_keeps_matching_items(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    sandbox.jira.update_issue(issue, IssueChanges(status="Done", duedate="2026-05-01"))
    body = api.post(
        "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": [issue.key], "fieldIds": ["duedate"]}
    ).json()
    items = body["issueChangeLogs"][0]["changeHistories"][0]["items"]
    assert [i["fieldId"] for i in items] == ["duedate"]


def test_bulk_changelog_without_ids_answers_400(api: TestClient) -> None:
    assert api.post("/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": []}).status_code == 400


def test_delete_issue_removes_it_from_get_and_search(
    api: TestClient, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    assert api.delete(f"/rest/api/3/issue/{issue.key}").status_code == 204
    assert api.get(f"/rest/api/3/issue/{issue.key}").status_code == 404
    found = api.get("/rest/api/3/search/jql", params={"jql": "project = ACM", "maxResults": 100}).json()
    assert issue.key not in {i["key"] for i in found["issues"]}


def test_delete_issue_with_subtasks_needs_delete_subtasks(api: TestClient, sandbox: Sandbox) -> None:
    world = sandbox.jira
    parent = world.create_issue(
        world.projects[world.project_by_key["ACM"]], summary="Parent", type_name="Story"
    )
    child = world.create_issue(
        world.projects[world.project_by_key["ACM"]], summary="Child", type_name="Subtask", parent_id=parent.id
    )
    refused = api.delete(f"/rest/api/3/issue/{parent.key}")
    accepted = api.delete(f"/rest/api/3/issue/{parent.key}", params={"deleteSubtasks": "true"})
    assert (refused.status_code, accepted.status_code) == (400, 204)
    assert child.id not in world.issues


def test_issue_properties_round_trip(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue()
    base = f"/rest/api/3/issue/{issue.key}/properties"
    created = api.put(f"{base}/sync.index", json={"syncedActions": ["a1"]})
    updated = api.put(f"{base}/sync.index", json={"syncedActions": ["a1", "a2"]})
    assert (created.status_code, updated.status_code) == (201, 200)
    assert api.get(f"{base}/sync.index").json() == {
        "key": "sync.index",
        "value": {"syncedActions": ["a1", "a2"]},
    }
    assert [k["key"] for k in api.get(base).json()["keys"]] == ["sync.index"]
    assert api.delete(f"{base}/sync.index").status_code == 204
    assert api.get(f"{base}/sync.index").status_code == 404


def test_issue_property_over_32768_bytes_answers_400(
    api: TestClient, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    response = api.put(f"/rest/api/3/issue/{issue.key}/properties/big", json={"blob": "x" * 33000})
    assert response.status_code == 400


def test_search_properties_parameter_returns_issue_properties(
    api: TestClient, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    api.put(f"/rest/api/3/issue/{issue.key}/properties/marker", json={"v": 1})
    body = api.get(
        "/rest/api/3/search/jql", params={"jql": f"key = {issue.key}", "properties": "marker"}
    ).json()
    assert body["issues"][0]["properties"] == {"marker": {"v": 1}}


def test_worklogs_per_issue_updated_since_and_by_ids(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    since = sandbox.jira.now_ms()
    sandbox.clock.advance(timedelta(minutes=1))
    worklog = sandbox.jira.add_worklog(issue, seconds=5400, started_ms=since)
    sandbox.clock.advance(timedelta(minutes=2))
    per_issue = api.get(f"/rest/api/3/issue/{issue.key}/worklog").json()
    updated = api.get("/rest/api/3/worklog/updated", params={"since": since}).json()
    listed = api.post("/rest/api/3/worklog/list", json={"ids": [worklog.id]}).json()
    assert per_issue["total"] == 1
    assert per_issue["worklogs"][0]["timeSpent"] == "1h 30m"
    assert [v["worklogId"] for v in updated["values"]] == [worklog.id]
    assert (updated["lastPage"], updated["until"]) == (True, worklog.updated_ms)
    assert listed[0]["issueId"] == str(issue.id)


def test_worklogs_updated_leaves_out_the_last_minute(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    since = sandbox.jira.now_ms()
    sandbox.clock.advance(timedelta(seconds=1))
    sandbox.jira.add_worklog(new_issue(), seconds=600, started_ms=since)
    sandbox.clock.advance(timedelta(seconds=30))
    recent = api.get("/rest/api/3/worklog/updated", params={"since": since}).json()
    sandbox.clock.advance(timedelta(seconds=31))
    settled = api.get("/rest/api/3/worklog/updated", params={"since": since}).json()
    assert (recent["values"], recent["until"], recent["lastPage"]) == ([], since, True)
    assert len(settled["values"]) == 1


def test_worklogs_updated_pages_1000_ids_and_continues_from_until(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    since = sandbox.jira.now_ms()
    for _ in range(1001):
        sandbox.clock.advance(timedelta(milliseconds=5))
        sandbox.jira.add_worklog(issue, seconds=60, started_ms=since)
    sandbox.clock.advance(timedelta(minutes=2))
    first = api.get("/rest/api/2/worklog/updated", params={"since": since}).json()
    second = api.get("/rest/api/2/worklog/updated", params={"since": first["until"]}).json()
    assert (len(first["values"]), first["lastPage"]) == (1000, False)
    assert first["nextPage"].endswith(f"/rest/api/2/worklog/updated?since={first['until']}")
    assert (len(second["values"]), second["lastPage"]) == (1, True)
    assert first["until"] == first["values"][-1]["updatedTime"] < second["values"][0]["updatedTime"]


def test_worklogs_deleted_lists_removed_worklogs_and_those_of_deleted_issues(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    world = sandbox.jira
    kept, gone = new_issue(), new_issue()
    since = world.now_ms()
    sandbox.clock.advance(timedelta(seconds=1))
    removed = world.add_worklog(kept, seconds=600, started_ms=since)
    orphaned = world.add_worklog(gone, seconds=900, started_ms=since)
    sandbox.clock.advance(timedelta(seconds=1))
    world.delete_worklog(removed)
    world.delete_issue(gone)
    sandbox.clock.advance(timedelta(minutes=2))
    deleted = api.get("/rest/api/3/worklog/deleted", params={"since": since}).json()
    updated = api.get("/rest/api/3/worklog/updated", params={"since": since}).json()
    assert sorted(v["worklogId"] for v in deleted["values"]) == sorted([removed.id, orphaned.id])
    assert deleted["lastPage"] is True
    assert updated["values"] == []
    assert kept.time_spent_s is None


@pytest.mark.parametrize(
    "body",
    [{"ids": []}, {"ids": list(range(1, 1002))}, {"ids": ["x"]}, {}],
    ids=["empty", "over-1000", "not-ids", "missing"],
)
def test_worklog_list_refuses_bad_id_lists_with_400(api: TestClient, body: dict[str, object]) -> None:
    response = api.post("/rest/api/3/worklog/list", json=body)
    assert response.status_code == 400
    assert response.json()["errorMessages"]


def test_latest_is_an_alias_of_v2(api: TestClient, sandbox: Sandbox) -> None:
    issue = sandbox.jira.find_issue("ACM-1")
    assert issue is not None
    issue.description = "Plain words"
    latest = api.get("/rest/api/latest/issue/ACM-1", params={"fields": "description,summary"})
    v2 = api.get("/rest/api/2/issue/ACM-1", params={"fields": "description,summary"})
    assert latest.status_code == 200
    assert latest.json() == v2.json()
    assert latest.json()["fields"]["description"] == "Plain words"


def test_latest_serves_every_v2_route(sandbox: Sandbox) -> None:
    def served(prefix: str) -> set[tuple[str, str]]:
        return {
            (route.path.removeprefix(prefix), method)
            for route in jira_routes(sandbox.jira)
            if isinstance(route, Route) and route.path.startswith(prefix)
            for method in route.methods or ()
        }

    assert served("/rest/api/latest/") == served("/rest/api/2/") != set()


def test_latest_comment_takes_v2_plain_text(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    response = api.post(f"/rest/api/latest/issue/{new_issue().key}/comment", json={"body": "Plain"})
    assert response.status_code == 201
    assert response.json()["body"] == "Plain"
