"""Jira Software boards and sprints (`/rest/agile/1.0`, same on Cloud and Data Center)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pydantic import TypeAdapter

from connectors.http import Params, paginate_by_offset
from connectors.jira.base import JiraClientBase, paged_values
from connectors.jira.models.agile import JiraBoard, JiraSprint
from connectors.jira.models.common import JiraPagedValues
from connectors.jira.models.issue import JiraIssue
from connectors.jira.models.search import JiraOffsetSearchPage

_BOARDS = TypeAdapter(JiraPagedValues[JiraBoard])
_SPRINTS = TypeAdapter(JiraPagedValues[JiraSprint])
_SPRINT = TypeAdapter(JiraSprint)
_SPRINT_ISSUES = TypeAdapter(JiraOffsetSearchPage)


class AgileApi(JiraClientBase):
    def iter_boards(self, *, project: str | None = None, page_size: int = 50) -> Iterator[JiraBoard]:
        route = "/rest/agile/1.0/board"

        def fetch(start: int) -> JiraPagedValues[JiraBoard]:
            params: Params = {"startAt": start, "maxResults": page_size, "projectKeyOrId": project}
            return self._call(_BOARDS, "GET", route, params=params)

        for page in paged_values(fetch, endpoint=f"GET {route}"):
            yield from page.values

    def iter_sprints(
        self, board_id: int, *, states: Sequence[str] = (), page_size: int = 50
    ) -> Iterator[JiraSprint]:
        """Sprints of a board, closed then active then future (each in backlog order), optionally of some
        `states` only; a board without sprints (kanban) answers 400 (a PermanentError)."""
        route = "/rest/agile/1.0/board/{board_id}/sprint"

        def fetch(start: int) -> JiraPagedValues[JiraSprint]:
            params: Params = {"startAt": start, "maxResults": page_size, "state": ",".join(states) or None}
            return self._call(_SPRINTS, "GET", route, path={"board_id": board_id}, params=params)

        for page in paged_values(fetch, endpoint=f"GET {route}"):
            yield from page.values

    def get_sprint(self, sprint_id: int) -> JiraSprint:
        """One sprint (404, a NotFoundError, once it is deleted)."""
        return self._call(_SPRINT, "GET", "/rest/agile/1.0/sprint/{sprint_id}", path={"sprint_id": sprint_id})

    def iter_sprint_issues(
        self, sprint_id: int, *, fields: Sequence[str], jql: str | None = None, page_size: int = 50
    ) -> Iterator[JiraIssue]:
        route = "/rest/agile/1.0/sprint/{sprint_id}/issue"

        def fetch(start: int) -> JiraOffsetSearchPage:
            params: Params = {
                "startAt": start,
                "maxResults": page_size,
                "fields": ",".join(fields),
                "jql": jql,
            }
            return self._call(_SPRINT_ISSUES, "GET", route, path={"sprint_id": sprint_id}, params=params)

        pages = paginate_by_offset(
            fetch,
            item_count=lambda page: len(page.issues),
            is_last=lambda page: page.total is not None and page.start_at + len(page.issues) >= page.total,
            reported_start=lambda page: page.start_at,
            endpoint=f"GET {route}",
        )
        for page in pages:
            yield from page.issues
