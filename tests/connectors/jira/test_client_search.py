from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from connectors.http import PaginationLoopError, PermanentError
from connectors.jira import JiraClient

JQL = "project = ED AND updated >= '2026-03-01 00:00' ORDER BY updated ASC, key ASC"
FIELDS = ["summary", "status", "updated", "customfield_10020"]


def _issue(number: int) -> dict[str, Any]:
    return {"id": str(10000 + number), "key": f"ED-{number}", "fields": {"summary": f"Issue {number}"}}


def _token_page(numbers: range, token: str | None, *, is_last: bool | None = None) -> httpx.Response:
    body: dict[str, Any] = {"issues": [_issue(n) for n in numbers]}
    if token is not None:
        body["nextPageToken"] = token
    if is_last is not None:
        body["isLast"] = is_last
    return httpx.Response(200, json=body)


def _sent_json(route: respx.Route, index: int) -> Any:
    return json.loads(route.calls[index].request.content)


def test_cloud_search_issues_follows_next_page_token_with_post(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    route = cloud_router.post("/rest/api/3/search/jql").mock(
        side_effect=[
            _token_page(range(1, 3), "tok-1", is_last=False),
            _token_page(range(3, 4), None, is_last=True),
        ]
    )

    issues = list(cloud.search_issues(JQL, fields=FIELDS, expand=["changelog"], page_size=2))

    assert [issue.key for issue in issues] == ["ED-1", "ED-2", "ED-3"]
    assert _sent_json(route, 0) == {"jql": JQL, "maxResults": 2, "fields": FIELDS, "expand": "changelog"}
    assert _sent_json(route, 1)["nextPageToken"] == "tok-1"


def test_cloud_search_issues_sends_reconcile_ids_and_properties(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    route = cloud_router.post("/rest/api/3/search/jql").mock(return_value=_token_page(range(1, 2), None))

    list(cloud.search_issues(JQL, fields=FIELDS, properties=["pmbridge.sync"], reconcile_issue_ids=[10001]))

    sent = _sent_json(route, 0)
    assert (sent["reconcileIssues"], sent["properties"]) == ([10001], ["pmbridge.sync"])


def test_cloud_search_issues_with_get_sends_query_parameters(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    route = cloud_router.get("/rest/api/3/search/jql").mock(return_value=_token_page(range(1, 2), None))

    list(cloud.search_issues(JQL, fields=FIELDS, expand=["changelog", "names"], use_post=False))

    params = route.calls.last.request.url.params
    assert params["jql"] == JQL
    assert params["fields"] == ",".join(FIELDS)
    assert params["expand"] == "changelog,names"
    assert "nextPageToken" not in params


def test_cloud_search_is_last_stops_even_with_token(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.post("/rest/api/3/search/jql").mock(
        return_value=_token_page(range(1, 2), "stale-token", is_last=True)
    )

    assert len(list(cloud.search_issues(JQL, fields=FIELDS))) == 1
    assert route.call_count == 1


def test_cloud_search_repeated_page_token_raises(cloud: JiraClient, cloud_router: respx.Router) -> None:
    cloud_router.post("/rest/api/3/search/jql").mock(
        side_effect=[
            _token_page(range(1, 2), "tok-1"),
            _token_page(range(2, 3), "tok-2"),
            _token_page(range(3, 4), "tok-1"),
        ]
    )

    with pytest.raises(PaginationLoopError):
        list(cloud.search_issues(JQL, fields=FIELDS))


def test_cloud_search_pages_are_fetched_lazily(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.post("/rest/api/3/search/jql").mock(
        side_effect=[_token_page(range(1, 3), "tok-1"), _token_page(range(3, 5), None)]
    )

    pages = cloud.iter_search_pages(JQL, fields=FIELDS)
    first = next(pages)

    assert [issue.key for issue in first.issues] == ["ED-1", "ED-2"]
    assert first.next_page_token == "tok-1"
    assert route.call_count == 1


def test_cloud_search_unbounded_jql_raises_permanent_error_with_message(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    message = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
    cloud_router.post("/rest/api/3/search/jql").mock(
        return_value=httpx.Response(400, json={"errorMessages": [message], "errors": {}})
    )

    with pytest.raises(PermanentError) as caught:
        list(cloud.search_issues("order by key desc", fields=FIELDS))

    assert caught.value.provider_messages == (message,)


def test_cloud_search_custom_fields_reach_the_issue(
    cloud: JiraClient, cloud_router: respx.Router, api_fixture: Callable[[str], Any]
) -> None:
    cloud_router.post("/rest/api/3/search/jql").mock(
        return_value=httpx.Response(200, json={"issues": [api_fixture("issue_v3_story")], "isLast": True})
    )

    (issue,) = cloud.search_issues(JQL, fields=FIELDS)

    assert issue.fields.custom["customfield_10019"] == "0|i0001b:"


def test_search_rejects_more_than_five_properties(cloud: JiraClient) -> None:
    with pytest.raises(ValueError, match="at most 5"):
        next(cloud.search_issues(JQL, fields=FIELDS, properties=[f"p{i}" for i in range(6)]))


def _offset_page(start: int, numbers: range, total: int) -> httpx.Response:
    body = {"startAt": start, "maxResults": 2, "total": total, "issues": [_issue(n) for n in numbers]}
    return httpx.Response(200, json=body)


def test_dc_search_issues_pages_with_start_at(dc: JiraClient, dc_router: respx.Router) -> None:
    route = dc_router.get("/rest/api/2/search").mock(
        side_effect=[
            _offset_page(0, range(1, 3), 5),
            _offset_page(2, range(3, 5), 5),
            _offset_page(4, range(5, 6), 5),
        ]
    )

    issues = list(dc.search_issues(JQL, fields=FIELDS, page_size=2, use_post=False))

    assert [issue.key for issue in issues] == ["ED-1", "ED-2", "ED-3", "ED-4", "ED-5"]
    assert [call.request.url.params["startAt"] for call in route.calls] == ["0", "2", "4"]
    assert route.calls[0].request.url.params["fields"] == ",".join(FIELDS)


def test_dc_search_advances_by_returned_count_when_server_caps_page(
    dc: JiraClient, dc_router: respx.Router
) -> None:
    route = dc_router.post("/rest/api/2/search").mock(
        side_effect=[_offset_page(0, range(1, 3), 3), _offset_page(2, range(3, 4), 3)]
    )

    list(dc.search_issues(JQL, fields=FIELDS, page_size=1000))

    assert [_sent_json(route, i)["startAt"] for i in range(2)] == [0, 2]


def test_dc_search_page_reports_total(dc: JiraClient, dc_router: respx.Router) -> None:
    dc_router.post("/rest/api/2/search").mock(return_value=_offset_page(0, range(1, 3), 2))

    (page,) = dc.iter_search_pages(JQL, fields=FIELDS)

    assert (page.start_at, page.total, page.next_page_token) == (0, 2, None)


def test_dc_search_server_ignoring_start_at_raises(dc: JiraClient, dc_router: respx.Router) -> None:
    dc_router.post("/rest/api/2/search").mock(return_value=_offset_page(0, range(1, 3), 10))

    with pytest.raises(PaginationLoopError):
        list(dc.search_issues(JQL, fields=FIELDS))
