"""Worklogs: ids updated or deleted since an instant, then the worklogs by id.

Both feeds take `since` in epoch milliseconds, answer up to 1000 ids a page oldest first, leave out
the last minute's changes, and page by handing the page's `until` back as the next `since` until
`lastPage` (OpenAPI `getIdsOfWorklogsModifiedSince`, `getIdsOfWorklogsDeletedSince`). The worklogs
themselves come from `POST /worklog/list`, at most 1000 ids a call (`getWorklogsForIds`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from pydantic import JsonValue, TypeAdapter

from connectors.http import paginate_by_token
from connectors.jira.base import JiraClientBase
from connectors.jira.models.worklog import JiraChangedWorklogPage, JiraWorklog, JiraWorklogChange

WORKLOG_LIST_MAX_IDS = 1000
_CHANGED_PAGE = TypeAdapter(JiraChangedWorklogPage)
_WORKLOGS = TypeAdapter(list[JiraWorklog])


class WorklogsApi(JiraClientBase):
    def iter_updated_worklog_pages(self, since_ms: int) -> Iterator[JiraChangedWorklogPage]:
        """Pages of worklog ids created or updated after `since_ms` (epoch milliseconds)."""
        return self._changed_pages("/worklog/updated", since_ms)

    def iter_deleted_worklog_pages(self, since_ms: int) -> Iterator[JiraChangedWorklogPage]:
        """Pages of worklog ids deleted after `since_ms` (epoch milliseconds)."""
        return self._changed_pages("/worklog/deleted", since_ms)

    def iter_updated_worklogs(self, since: datetime) -> Iterator[JiraWorklogChange]:
        """Worklog ids updated after `since`."""
        for page in self.iter_updated_worklog_pages(int(since.timestamp() * 1000)):
            yield from page.values

    def iter_deleted_worklogs(self, since: datetime) -> Iterator[JiraWorklogChange]:
        """Worklog ids deleted after `since`."""
        for page in self.iter_deleted_worklog_pages(int(since.timestamp() * 1000)):
            yield from page.values

    def _changed_pages(self, path: str, since_ms: int) -> Iterator[JiraChangedWorklogPage]:
        """Jira may repeat the boundary item across pages; a `since` that does not advance raises."""
        route = self._api(path)
        first_since = str(since_ms)

        def fetch(token: str | None) -> JiraChangedWorklogPage:
            return self._call(_CHANGED_PAGE, "GET", route, params={"since": token or first_since})

        def next_since(page: JiraChangedWorklogPage) -> str | None:
            if page.last_page or page.until is None:
                return None
            return str(page.until)

        return paginate_by_token(fetch, next_token=next_since, endpoint=f"GET {route}")

    def list_worklogs(self, worklog_ids: Sequence[int]) -> list[JiraWorklog]:
        """The worklogs of these ids the caller may see; ids of worklogs gone or hidden are left out."""
        route = self._api("/worklog/list")
        worklogs: list[JiraWorklog] = []
        for offset in range(0, len(worklog_ids), WORKLOG_LIST_MAX_IDS):
            batch: list[JsonValue] = list(worklog_ids[offset : offset + WORKLOG_LIST_MAX_IDS])
            page: list[JiraWorklog] = self._call(
                _WORKLOGS, "POST", route, json={"ids": batch}, idempotent=True
            )
            worklogs.extend(page)
        return worklogs
