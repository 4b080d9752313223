from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import respx

from connectors.http import PaginationLoopError
from connectors.jira import JiraClient

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
SINCE_MS = str(int(SINCE.timestamp() * 1000))


def _updated_page(ids: list[int], until: int, last: bool) -> httpx.Response:
    values = [{"worklogId": i, "updatedTime": until, "properties": []} for i in ids]
    return httpx.Response(200, json={"values": values, "since": 0, "until": until, "lastPage": last})


def test_iter_updated_worklogs_advances_since_to_until(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.get("/rest/api/3/worklog/updated").mock(
        side_effect=[_updated_page([1, 2], 1772400000000, False), _updated_page([3], 1772400500000, True)]
    )

    ids = [change.worklog_id for change in cloud.iter_updated_worklogs(SINCE)]

    assert ids == [1, 2, 3]
    assert [call.request.url.params["since"] for call in route.calls] == [SINCE_MS, "1772400000000"]


def test_iter_updated_worklogs_since_not_advancing_raises(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    cloud_router.get("/rest/api/3/worklog/updated").mock(
        return_value=_updated_page([1], 1772400000000, False)
    )

    with pytest.raises(PaginationLoopError):
        list(cloud.iter_updated_worklogs(SINCE))


def test_iter_deleted_worklogs_pages_since_in_epoch_ms(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.get("/rest/api/3/worklog/deleted").mock(
        side_effect=[_updated_page([7, 8], 1772400000000, False), _updated_page([9], 1772400500000, True)]
    )

    changes = list(cloud.iter_deleted_worklogs(SINCE))

    assert [change.worklog_id for change in changes] == [7, 8, 9]
    assert changes[-1].updated_time == datetime(2026, 3, 1, 21, 28, 20, tzinfo=UTC)
    assert [call.request.url.params["since"] for call in route.calls] == [SINCE_MS, "1772400000000"]


def test_iter_deleted_worklog_pages_on_data_center_use_api_2(dc: JiraClient, dc_router: respx.Router) -> None:
    route = dc_router.get("/rest/api/2/worklog/deleted").mock(
        return_value=httpx.Response(200, json={"values": [], "since": 5, "until": 5, "lastPage": True})
    )

    (page,) = dc.iter_deleted_worklog_pages(5)

    assert (page.values, page.until, page.last_page) == ([], 5, True)
    assert route.calls.last.request.url.params["since"] == "5"


def test_iter_deleted_worklogs_since_not_advancing_raises(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    cloud_router.get("/rest/api/3/worklog/deleted").mock(
        return_value=_updated_page([1], 1772400000000, False)
    )

    with pytest.raises(PaginationLoopError):
        list(cloud.iter_deleted_worklogs(SINCE))


def test_list_worklogs_posts_at_most_1000_ids_a_call(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.post("/rest/api/3/worklog/list").mock(return_value=httpx.Response(200, json=[]))

    cloud.list_worklogs(list(range(1, 2502)))

    assert [len(json.loads(call.request.content)["ids"]) for call in route.calls] == [1000, 1000, 501]


def test_list_worklogs_posts_ids(dc: JiraClient, dc_router: respx.Router) -> None:
    route = dc_router.post("/rest/api/2/worklog/list").mock(
        return_value=httpx.Response(
            200,
            json=[
                {
                    "id": "100",
                    "issueId": "10002",
                    "author": {"name": "mia", "key": "JIRAUSER1"},
                    "started": "2026-03-01T09:00:00.000+0100",
                    "timeSpentSeconds": 3600,
                    "comment": "Pairing",
                }
            ],
        )
    )

    (worklog,) = dc.list_worklogs([100])

    assert json.loads(route.calls.last.request.content) == {"ids": [100]}
    assert (worklog.issue_id, worklog.time_spent_seconds, worklog.comment) == ("10002", 3600, "Pairing")


def test_iter_boards_filters_by_project(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.get("/rest/agile/1.0/board").mock(
        return_value=httpx.Response(
            200,
            json={
                "maxResults": 50,
                "startAt": 0,
                "total": 1,
                "isLast": True,
                "values": [
                    {
                        "id": 1,
                        "name": "ED board",
                        "type": "scrum",
                        "location": {"projectId": 10000, "projectKey": "ED"},
                    }
                ],
            },
        )
    )

    (board,) = cloud.iter_boards(project="ED")

    assert route.calls.last.request.url.params["projectKeyOrId"] == "ED"
    assert (board.id, board.type, board.location and board.location.project_key) == (1, "scrum", "ED")


def test_iter_sprints_pages_until_is_last(cloud: JiraClient, cloud_router: respx.Router) -> None:
    def page(start: int, ids: list[int], is_last: bool) -> httpx.Response:
        values = [
            {
                "id": i,
                "name": f"Sprint {i}",
                "state": "closed",
                "originBoardId": 1,
                "startDate": "2026-01-05T09:00:00.000Z",
            }
            for i in ids
        ]
        return httpx.Response(
            200, json={"maxResults": 2, "startAt": start, "isLast": is_last, "values": values}
        )

    route = cloud_router.get("/rest/agile/1.0/board/1/sprint").mock(
        side_effect=[page(0, [1, 2], False), page(2, [3], True)]
    )

    sprints = list(cloud.iter_sprints(1, states=["active", "closed"], page_size=2))

    assert [sprint.id for sprint in sprints] == [1, 2, 3]
    assert route.calls[0].request.url.params["state"] == "active,closed"


def test_iter_sprint_issues_pages_with_start_at(dc: JiraClient, dc_router: respx.Router) -> None:
    def page(start: int, keys: list[str]) -> httpx.Response:
        issues = [{"id": str(i), "key": key, "fields": {"summary": key}} for i, key in enumerate(keys)]
        return httpx.Response(200, json={"startAt": start, "maxResults": 2, "total": 3, "issues": issues})

    route = dc_router.get("/rest/agile/1.0/sprint/80/issue").mock(
        side_effect=[page(0, ["ED-1", "ED-2"]), page(2, ["ED-3"])]
    )

    keys = [issue.key for issue in dc.iter_sprint_issues(80, fields=["summary", "status"], page_size=2)]

    assert keys == ["ED-1", "ED-2", "ED-3"]
    assert route.calls[0].request.url.params["fields"] == "summary,status"
