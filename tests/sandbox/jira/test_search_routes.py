from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.app import Sandbox
from sandbox.jira.changes import IssueChanges
from sandbox.jira.model import Issue
from sandbox.jira.routes_search import REMOVED_SEARCH
from tests.sandbox.conftest import Bearer

SEARCH = "/rest/api/3/search/jql"


def _all_pages(client: TestClient, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    token = None
    while True:
        response = client.get(SEARCH, params={**params, **({"nextPageToken": token} if token else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["issues"])
        token = body.get("nextPageToken")
        if token is None:
            assert body["isLast"] is True
            return pages
        assert body["isLast"] is False


def test_search_jql_without_max_results_returns_default_page_of_50_ids(paging_api: TestClient) -> None:
    body = paging_api.get(SEARCH, params={"jql": "project = ACM"}).json()
    assert len(body["issues"]) == 50
    assert set(body) == {"issues", "nextPageToken", "isLast"}
    assert body["issues"][0]["fields"] == {}
    assert set(body["issues"][0]) == {"expand", "id", "self", "key", "fields"}


def test_search_jql_with_fields_caps_page_at_100(paging_api: TestClient) -> None:
    body = paging_api.get(
        SEARCH, params={"jql": "project = ACM", "maxResults": 5000, "fields": "summary"}
    ).json()
    assert len(body["issues"]) == 100
    assert "nextPageToken" in body


def test_search_jql_ids_only_honours_max_results_up_to_5000(paging_api: TestClient) -> None:
    body = paging_api.get(SEARCH, params={"jql": "project in (ACM, BOR)", "maxResults": 5000}).json()
    assert len(body["issues"]) == 260
    assert body["isLast"] is True
    assert "nextPageToken" not in body


def test_search_jql_pages_cover_every_issue_once_in_updated_id_order(
    paging_api: TestClient, paging_sandbox: Sandbox
) -> None:
    pages = _all_pages(
        paging_api,
        {
            "jql": "project = ACM AND updated >= 0 ORDER BY updated ASC, id ASC",
            "maxResults": 40,
            "fields": "updated",
        },
    )
    ids = [int(issue["id"]) for page in pages for issue in page]
    world = paging_sandbox.jira
    expected = sorted(
        (i for i in world.issues.values() if i.project_id == world.project_by_key["ACM"]),
        key=lambda i: (i.updated_ms, i.id),
    )
    assert [len(p) for p in pages] == [40, 40, 40, 10]
    assert ids == [i.id for i in expected]


def test_search_jql_order_by_key_desc_pages_through_sorted_result(paging_api: TestClient) -> None:
    pages = _all_pages(
        paging_api, {"jql": "project = BOR ORDER BY key DESC", "maxResults": 50, "fields": "summary"}
    )
    numbers = [int(issue["key"].split("-")[1]) for page in pages for issue in page]
    assert numbers == list(range(130, 0, -1))


def test_search_jql_post_pages_like_get(paging_api: TestClient) -> None:
    jql = "project = ACM ORDER BY created DESC"
    first = paging_api.post(SEARCH, json={"jql": jql, "maxResults": 100, "fields": ["summary"]}).json()
    second = paging_api.post(
        SEARCH,
        json={"jql": jql, "maxResults": 100, "fields": ["summary"], "nextPageToken": first["nextPageToken"]},
    ).json()
    assert len(first["issues"]) + len(second["issues"]) == 130
    assert second["isLast"] is True


def test_search_jql_post_accepts_nulls_as_pycontribs_sends_them(paging_api: TestClient) -> None:
    body = {
        "jql": "project = ACM",
        "fields": ["*all"],
        "expand": None,
        "properties": None,
        "reconcileIssues": [],
    }
    response = paging_api.post(SEARCH, json={**body, "maxResults": 5})
    assert response.status_code == 200
    assert len(response.json()["issues"]) == 5


def test_search_jql_post_unknown_key_answers_400(paging_api: TestClient) -> None:
    response = paging_api.post(SEARCH, json={"jql": "project = ACM", "startAt": 50})
    assert response.status_code == 400
    assert 'Unrecognized field "startAt"' in response.json()["errorMessages"][0]


def test_search_jql_token_of_another_query_answers_400(paging_api: TestClient) -> None:
    token = paging_api.get(SEARCH, params={"jql": "project = ACM"}).json()["nextPageToken"]
    response = paging_api.get(SEARCH, params={"jql": "project = BOR", "nextPageToken": token})
    assert response.status_code == 400
    assert response.json()["errors"] == {}


@pytest.mark.parametrize(
    "jql",
    ["", "order by key desc"],
    ids=["empty", "order-only"],
)
def test_search_jql_unbounded_query_answers_400(paging_api: TestClient, jql: str) -> None:
    response = paging_api.get(SEARCH, params={"jql": jql})
    assert response.status_code == 400
    assert response.json() == {
        "errorMessages": [
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
        ],
        "errors": {},
    }


def test_search_jql_eight_order_fields_answers_400(paging_api: TestClient) -> None:
    order = ", ".join(["updated", "created", "key", "id", "duedate", "priority", "status", "summary"])
    response = paging_api.get(SEARCH, params={"jql": f"project = ACM ORDER BY {order}"})
    assert response.status_code == 400
    assert response.json()["errorMessages"] == ["JQL can be ordered by at most 7 fields."]


def test_search_jql_changelog_expand_keeps_the_latest_40(sandbox: Sandbox, api: TestClient) -> None:
    world = sandbox.jira
    issue = world.create_issue(world.projects[world.project_by_key["ACM"]], summary="Busy")
    first_due = date(2026, 4, 1)
    for n in range(45):
        sandbox.clock.advance(timedelta(minutes=1))
        world.update_issue(issue, IssueChanges(duedate=(first_due + timedelta(days=n)).isoformat()))
    body = api.get(SEARCH, params={"jql": f"key = {issue.key}", "expand": "changelog"}).json()
    changelog = body["issues"][0]["changelog"]
    assert (changelog["total"], changelog["maxResults"], len(changelog["histories"])) == (45, 40, 40)
    assert changelog["histories"][0]["id"] == str(issue.histories[5].id)
    assert changelog["histories"][-1]["items"][0]["to"] == "2026-05-15"


def test_search_jql_expand_transitions_and_rendered_fields_are_embedded(api: TestClient) -> None:
    body = api.get(
        SEARCH,
        params={
            "jql": "project = ACM",
            "maxResults": 1,
            "fields": "description,created",
            "expand": "transitions,renderedFields,names",
        },
    ).json()
    issue = body["issues"][0]
    assert {t["to"]["name"] for t in issue["transitions"]} <= {
        "To Do",
        "In Progress",
        "In Review",
        "Blocked",
        "Done",
    }
    assert len(issue["transitions"]) == 4
    assert set(issue["renderedFields"]) == {"description", "created"}
    assert body["names"] == {"description": "Description", "created": "Created"}


def test_search_jql_all_fields_embed_comments_and_worklogs(
    api: TestClient, new_issue: Callable[..., Issue], sandbox: Sandbox
) -> None:
    issue = new_issue()
    sandbox.jira.add_comment(issue, {"type": "doc", "version": 1, "content": []})
    sandbox.jira.add_worklog(issue, seconds=3600, started_ms=sandbox.jira.now_ms())
    fields = api.get(SEARCH, params={"jql": f"key = {issue.key}", "fields": "*all"}).json()["issues"][0][
        "fields"
    ]
    assert fields["comment"]["total"] == 1
    assert fields["worklog"]["total"] == 1
    assert fields["worklog"]["worklogs"][0]["timeSpentSeconds"] == 3600


def test_search_jql_navigable_fields_leave_out_comments(api: TestClient) -> None:
    fields = api.get(SEARCH, params={"jql": "project = ACM", "fields": "*navigable", "maxResults": 1}).json()
    assert "comment" not in fields["issues"][0]["fields"]
    assert "summary" in fields["issues"][0]["fields"]


def test_search_jql_excluded_field_is_left_out(api: TestClient) -> None:
    fields = api.get(
        SEARCH, params={"jql": "project = ACM", "fields": "*all,-description", "maxResults": 1}
    ).json()
    assert "description" not in fields["issues"][0]["fields"]


def test_search_jql_repeated_fields_parameters_are_merged(api: TestClient) -> None:
    response = api.get(
        SEARCH,
        params=[("jql", "project = ACM"), ("fields", "summary"), ("fields", "status"), ("maxResults", "1")],
    )
    assert set(response.json()["issues"][0]["fields"]) == {"summary", "status"}


def test_search_jql_after_write_lags_until_search_catches_up(
    sandbox: Sandbox, api: TestClient, monotonic: Any, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    sandbox.jira.settings.search_lag_s = 5.0
    sandbox.clock.advance(timedelta(minutes=5))
    sandbox.jira.update_issue(issue, IssueChanges(status="Done"))
    params = {"jql": f"key = {issue.key}", "fields": "status"}
    stale = api.get(SEARCH, params=params).json()["issues"][0]["fields"]["status"]["name"]
    monotonic.advance(6)
    fresh = api.get(SEARCH, params=params).json()["issues"][0]["fields"]["status"]["name"]
    assert (stale, fresh) == ("To Do", "Done")


def test_search_jql_reconcile_issues_reads_after_write(
    sandbox: Sandbox, api: TestClient, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    sandbox.jira.settings.search_lag_s = 5.0
    sandbox.clock.advance(timedelta(minutes=5))
    sandbox.jira.update_issue(issue, IssueChanges(status="Done"))
    params = {
        "jql": "project = ACM AND statusCategory = Done",
        "fields": "status",
        "reconcileIssues": str(issue.id),
        "maxResults": 100,
    }
    keys = [i["key"] for i in api.get(SEARCH, params=params).json()["issues"]]
    assert issue.key in keys


def test_search_jql_lagged_new_issue_is_invisible_until_indexed(
    sandbox: Sandbox, api: TestClient, monotonic: Any, new_issue: Callable[..., Issue]
) -> None:
    sandbox.jira.settings.search_lag_s = 5.0
    issue = new_issue()
    params = {"jql": f"project = ACM AND key = {issue.key}"}
    before = api.get(SEARCH, params=params).json()["issues"]
    monotonic.advance(6)
    after = api.get(SEARCH, params=params).json()["issues"]
    assert (len(before), len(after)) == (0, 1)


def test_search_jql_too_many_reconcile_ids_answers_400(api: TestClient) -> None:
    ids = ",".join(str(10000 + n) for n in range(51))
    response = api.get(SEARCH, params={"jql": "project = ACM", "reconcileIssues": ids})
    assert response.status_code == 400


@pytest.mark.parametrize("version", ["2", "3", "latest"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_cloud_answers_removed_search_with_410_on_every_version(
    api: TestClient, version: str, method: str
) -> None:
    response = api.request(method, f"/rest/api/{version}/search", params={"jql": "project = ACM"}, json={})
    assert response.status_code == 410
    assert response.json() == {"errorMessages": [REMOVED_SEARCH], "errors": {}}
    assert "CHANGE-2046" in response.json()["errorMessages"][0]


@pytest.mark.parametrize("version", ["2", "latest"])
def test_data_center_keeps_search_on_v2_and_latest(dc_api: TestClient, version: str) -> None:
    got = dc_api.get(f"/rest/api/{version}/search", params={"jql": "project = ACM", "maxResults": 3})
    posted = dc_api.post(f"/rest/api/{version}/search", json={"jql": "project = ACM", "maxResults": 3})
    assert (got.status_code, posted.status_code) == (200, 200)
    assert got.json()["total"] == posted.json()["total"] == 12
    assert len(got.json()["issues"]) == 3


def test_data_center_has_no_v3_search(dc_api: TestClient) -> None:
    assert dc_api.get("/rest/api/3/search", params={"jql": "project = ACM"}).status_code == 410


def test_data_center_search_pages_with_start_at_and_total(
    paging_api: TestClient, paging_sandbox: Sandbox
) -> None:
    body = paging_api.get(
        "/rest/api/2/search",
        params={"jql": "project = ACM ORDER BY key ASC", "startAt": 120, "maxResults": 50},
        auth=Bearer(paging_sandbox.jira_pat),
    ).json()
    assert (body["startAt"], body["maxResults"], body["total"]) == (120, 50, 130)
    assert [i["key"] for i in body["issues"]] == [f"ACM-{n}" for n in range(121, 131)]
    assert isinstance(body["issues"][0]["fields"]["summary"], str)


def test_data_center_search_accepts_unbounded_jql(paging_api: TestClient, paging_sandbox: Sandbox) -> None:
    body = paging_api.get(
        "/rest/api/2/search", params={"jql": "", "maxResults": 0}, auth=Bearer(paging_sandbox.jira_pat)
    ).json()
    assert body["total"] == 260


def test_approximate_count_counts_matches(paging_api: TestClient) -> None:
    response = paging_api.post("/rest/api/3/search/approximate-count", json={"jql": "project in (ACM, BOR)"})
    assert response.json() == {"count": 260}
