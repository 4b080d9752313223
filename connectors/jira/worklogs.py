"""Worklogs: ids updated since an instant, then the worklogs by id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from pydantic import JsonValue, TypeAdapter

from connectors.http import paginate_by_token
from connectors.jira.base import JiraClientBase
from connectors.jira.models.worklog import JiraWorklog, JiraWorklogChange, JiraWorklogUpdatedPage

WORKLOG_LIST_MAX_IDS = 1000
_UPDATED_PAGE = TypeAdapter(JiraWorklogUpdatedPage)
_WORKLOGS = TypeAdapter(list[JiraWorklog])


class WorklogsApi(JiraClientBase):
    def iter_updated_worklogs(self, since: datetime) -> Iterator[JiraWorklogChange]:
        """Worklog ids updated after `since`. Jira omits the last minute's updates and may repeat the
        boundary item across pages; a `since` that does not advance raises."""
        route = self._api("/worklog/updated")
        first_since = str(int(since.timestamp() * 1000))

        def fetch(token: str | None) -> JiraWorklogUpdatedPage:
            return self._call(_UPDATED_PAGE, "GET", route, params={"since": token or first_since})

        def next_since(page: JiraWorklogUpdatedPage) -> str | None:
            if page.last_page or page.until is None:
                return None
            return str(page.until)

        for page in paginate_by_token(fetch, next_token=next_since, endpoint=f"GET {route}"):
            yield from page.values

    def list_worklogs(self, worklog_ids: Sequence[int]) -> list[JiraWorklog]:
        route = self._api("/worklog/list")
        worklogs: list[JiraWorklog] = []
        for offset in range(0, len(worklog_ids), WORKLOG_LIST_MAX_IDS):
            batch: list[JsonValue] = list(worklog_ids[offset : offset + WORKLOG_LIST_MAX_IDS])
            page: list[JiraWorklog] = self._call(
                _WORKLOGS, "POST", route, json={"ids": batch}, idempotent=True
            )
            worklogs.extend(page)
        return worklogs
