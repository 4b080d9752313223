"""Enhanced search pages with each issue as the JSON text sent, and bulk changelog pages as decoded JSON,
with their envelopes checked."""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson
import pytest
import respx

from connectors.http import InvalidResponseError, PaginationLoopError, UnsupportedOperationError
from connectors.jira import JiraClient

JQL = 'project in ("ED") ORDER BY updated ASC, id ASC'
FIELDS = ["summary", "updated"]


def _issue(n: int) -> dict[str, Any]:
    return {"id": str(10000 + n), "key": f"ED-{n}", "fields": {"summary": f"Issue {n}", "extra": {"x": [n]}}}


def test_raw_search_follows_tokens_and_keeps_issues_as_sent(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    # Spaced as some servers send it: each issue's text is kept exactly.
    texts = [json.dumps(_issue(n), indent=1).encode() for n in (1, 2)]
    first_page = b'{"issues": [' + b", ".join(texts) + b'], "nextPageToken": "t1", "isLast": false}'
    route = cloud_router.post("/rest/api/3/search/jql").mock(
        side_effect=[
            httpx.Response(200, content=first_page),
            # isLast wins over a token, as in the model-based search.
            httpx.Response(200, json={"issues": [_issue(3)], "nextPageToken": "t2", "isLast": True}),
        ]
    )

    pages = list(cloud.iter_search_pages_raw(JQL, fields=FIELDS, page_size=2, reconcile_issue_ids=[10001]))

    keys = [[orjson.loads(issue)["key"] for issue in page.issues] for page in pages]
    assert keys == [["ED-1", "ED-2"], ["ED-3"]]
    assert pages[0].issues == texts
    assert pages[-1].next_page_token is None
    first = json.loads(route.calls[0].request.content)
    assert first == {"jql": JQL, "maxResults": 2, "fields": FIELDS, "reconcileIssues": [10001]}
    assert json.loads(route.calls[1].request.content)["nextPageToken"] == "t1"


def test_raw_search_repeated_token_raises(cloud: JiraClient, cloud_router: respx.Router) -> None:
    cloud_router.post("/rest/api/3/search/jql").mock(
        return_value=httpx.Response(200, json={"issues": [_issue(1)], "nextPageToken": "same"})
    )

    with pytest.raises(PaginationLoopError):
        list(cloud.iter_search_pages_raw(JQL, fields=FIELDS))


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(httpx.Response(200, content=b"{not json"), id="not-json"),
        pytest.param(httpx.Response(200, json=[_issue(1)]), id="not-an-object"),
        pytest.param(httpx.Response(200, json={"issues": {"a": 1}}), id="issues-not-a-list"),
        pytest.param(httpx.Response(200, json={"issues": [], "nextPageToken": 5}), id="numeric-token"),
    ],
)
def test_raw_search_refuses_unexpected_envelopes(
    cloud: JiraClient, cloud_router: respx.Router, response: httpx.Response
) -> None:
    cloud_router.post("/rest/api/3/search/jql").mock(return_value=response)

    with pytest.raises(InvalidResponseError):
        list(cloud.iter_search_pages_raw(JQL, fields=FIELDS))


def test_raw_search_leaves_each_issue_to_the_caller(cloud: JiraClient, cloud_router: respx.Router) -> None:
    cloud_router.post("/rest/api/3/search/jql").mock(
        return_value=httpx.Response(200, content=b'{"issues": [{"id": 1, "key": "ED-1"}, 7], "isLast": true}')
    )

    (page,) = cloud.iter_search_pages_raw(JQL, fields=FIELDS)

    assert page.issues == [b'{"id": 1, "key": "ED-1"}', b"7"]


def test_raw_bulk_changelog_pages_until_token_absent(cloud: JiraClient, cloud_router: respx.Router) -> None:
    history = {"id": "1", "created": 1700000000000, "items": [{"field": "status"}]}
    route = cloud_router.post("/rest/api/3/changelog/bulkfetch").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "issueChangeLogs": [{"issueId": "10001", "changeHistories": [history]}],
                    "nextPageToken": "n",
                },
            ),
            httpx.Response(200, json={"issueChangeLogs": [{"issueId": "10002"}]}),
        ]
    )

    pages = list(cloud.iter_bulk_changelogs_raw(["10001", "10002"], page_size=500))

    decoded = [[(i, [orjson.loads(h) for h in hs]) for i, hs in page.issue_change_logs] for page in pages]
    assert decoded == [[("10001", [history])], [("10002", [])]]
    assert json.loads(route.calls[0].request.content) == {
        "issueIdsOrKeys": ["10001", "10002"],
        "maxResults": 500,
    }
    assert json.loads(route.calls[1].request.content)["nextPageToken"] == "n"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"issueChangeLogs": [{"issueId": "1", "changeHistories": ["x"]}]}, id="history-not-an-object"
        ),
        pytest.param({"issueChangeLogs": [{"issueId": 1, "changeHistories": []}]}, id="numeric-issue-id"),
        pytest.param({"issueChangeLogs": {"issueId": "1"}}, id="logs-not-a-list"),
        pytest.param({"issueChangeLogs": [], "nextPageToken": 5}, id="numeric-token"),
    ],
)
def test_raw_bulk_changelog_refuses_unexpected_shapes(
    cloud: JiraClient, cloud_router: respx.Router, body: dict[str, Any]
) -> None:
    cloud_router.post("/rest/api/3/changelog/bulkfetch").mock(return_value=httpx.Response(200, json=body))

    with pytest.raises(InvalidResponseError):
        list(cloud.iter_bulk_changelogs_raw(["1"]))


def test_raw_reads_are_cloud_only(dc: JiraClient) -> None:
    with pytest.raises(UnsupportedOperationError):
        list(dc.iter_search_pages_raw(JQL, fields=FIELDS))
    with pytest.raises(UnsupportedOperationError):
        list(dc.iter_bulk_changelogs_raw(["1"]))
