from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from connectors.http import PaginationLoopError, UnsupportedOperationError
from connectors.jira import JiraClient


def _history(history_id: int, created: Any, field: str = "status") -> dict[str, Any]:
    return {
        "id": str(history_id),
        "author": {"accountId": "abc", "displayName": "Mia"},
        "created": created,
        "items": [{"field": field, "fieldtype": "jira", "from": "1", "to": "2"}],
    }


def _bulk_page(entries: list[tuple[str, list[dict[str, Any]]]], token: str | None) -> httpx.Response:
    body: dict[str, Any] = {
        "issueChangeLogs": [{"issueId": issue, "changeHistories": histories} for issue, histories in entries]
    }
    if token is not None:
        body["nextPageToken"] = token
    return httpx.Response(200, json=body)


def test_bulk_changelog_pages_until_token_absent(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.post("/rest/api/3/changelog/bulkfetch").mock(
        side_effect=[
            _bulk_page([("10001", [_history(1, "2026-03-01T10:00:00.000+0000")])], "next-1"),
            _bulk_page([("10002", [_history(2, 1772360000000)])], None),
        ]
    )

    pages = list(
        cloud.iter_bulk_changelogs(["10001", "10002"], field_ids=["status", "duedate"], page_size=500)
    )

    assert [log.issue_id for page in pages for log in page.issue_change_logs] == ["10001", "10002"]
    first, second = (json.loads(call.request.content) for call in route.calls)
    assert first == {
        "issueIdsOrKeys": ["10001", "10002"],
        "maxResults": 500,
        "fieldIds": ["status", "duedate"],
    }
    assert second["nextPageToken"] == "next-1"


def test_bulk_changelog_parses_epoch_millisecond_created(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    cloud_router.post("/rest/api/3/changelog/bulkfetch").mock(
        return_value=_bulk_page([("10002", [_history(2, 1772360000000)])], None)
    )

    (page,) = cloud.iter_bulk_changelogs(["10002"])

    assert page.issue_change_logs[0].change_histories[0].created == datetime(
        2026, 3, 1, 10, 13, 20, tzinfo=UTC
    )


def test_bulk_changelog_repeated_token_raises(cloud: JiraClient, cloud_router: respx.Router) -> None:
    cloud_router.post("/rest/api/3/changelog/bulkfetch").mock(return_value=_bulk_page([], "same"))

    with pytest.raises(PaginationLoopError):
        list(cloud.iter_bulk_changelogs(["10001"]))


@pytest.mark.parametrize("count", [0, 1001], ids=["none", "over-1000"])
def test_bulk_changelog_rejects_issue_count_outside_limits(cloud: JiraClient, count: int) -> None:
    with pytest.raises(ValueError, match="1000"):
        next(cloud.iter_bulk_changelogs([str(n) for n in range(count)]))


def test_bulk_changelog_on_data_center_is_unsupported(dc: JiraClient) -> None:
    with pytest.raises(UnsupportedOperationError):
        next(dc.iter_bulk_changelogs(["10001"]))


def test_changelog_pages_per_issue_oldest_first(cloud: JiraClient, cloud_router: respx.Router) -> None:
    def page(start: int, ids: list[int], is_last: bool) -> httpx.Response:
        values = [_history(i, f"2026-03-0{i}T10:00:00.000+0000") for i in ids]
        body = {"startAt": start, "maxResults": 2, "total": 3, "isLast": is_last, "values": values}
        return httpx.Response(200, json=body)

    route = cloud_router.get("/rest/api/3/issue/ED-1/changelog").mock(
        side_effect=[page(0, [1, 2], False), page(2, [3], True)]
    )

    histories = list(cloud.iter_changelog("ED-1", page_size=2))

    assert [history.id for history in histories] == ["1", "2", "3"]
    assert [call.request.url.params["startAt"] for call in route.calls] == ["0", "2"]


def test_changelog_on_data_center_reads_expanded_issue(dc: JiraClient, dc_router: respx.Router) -> None:
    route = dc_router.get("/rest/api/2/issue/ED-1").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "10001",
                "key": "ED-1",
                "fields": {"created": "2026-03-01T09:00:00.000+0000"},
                "changelog": {
                    "startAt": 0,
                    "maxResults": 2,
                    "total": 2,
                    "histories": [
                        _history(2, "2026-03-02T10:00:00.000+0000"),
                        _history(1, "2026-03-01T10:00:00.000+0000"),
                    ],
                },
            },
        )
    )

    histories = list(dc.iter_changelog("ED-1"))

    assert [history.id for history in histories] == ["1", "2"]
    assert route.calls.last.request.url.params["expand"] == "changelog"
