"""The typed Jira client: one class, Cloud or Data Center chosen by the site's deployment."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType

from pydantic import TypeAdapter

from connectors.http import NotFoundError, Params
from connectors.jira.agile import AgileApi
from connectors.jira.base import paged_values
from connectors.jira.comments import CommentsApi
from connectors.jira.issues import IssuesApi
from connectors.jira.models.common import JiraPagedValues, JiraUser
from connectors.jira.models.meta import JiraField, JiraServerInfo
from connectors.jira.models.project import JiraProject, JiraVersion
from connectors.jira.worklogs import WorklogsApi

_SERVER_INFO = TypeAdapter(JiraServerInfo)
_USER = TypeAdapter(JiraUser)
_FIELDS = TypeAdapter(list[JiraField])
_PROJECT_PAGE = TypeAdapter(JiraPagedValues[JiraProject])
_PROJECTS = TypeAdapter(list[JiraProject])
_VERSIONS = TypeAdapter(list[JiraVersion])


class JiraClient(IssuesApi, CommentsApi, WorklogsApi, AgileApi):
    """Construct with a `JiraSite`; inject `http_client` or `transport` to drive it in tests."""

    def __enter__(self) -> JiraClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def get_server_info(self) -> JiraServerInfo:
        return self._call(_SERVER_INFO, "GET", self._api("/serverInfo"))

    def get_myself(self) -> JiraUser:
        return self._call(_USER, "GET", self._api("/myself"))

    def list_fields(self) -> list[JiraField]:
        return self._call(_FIELDS, "GET", self._api("/field"))

    def iter_projects(self, *, query: str | None = None, page_size: int = 50) -> Iterator[JiraProject]:
        """Cloud pages `/project/search` (404 when nothing matches `query`). Data Center lists
        `/rest/api/2/project` in one response and filters `query` on key or name here."""
        if not self.site.is_cloud:
            projects = self._call(_PROJECTS, "GET", "/rest/api/2/project")
            needle = (query or "").casefold()
            yield from (p for p in projects if needle in p.key.casefold() or needle in p.name.casefold())
            return
        route = "/rest/api/3/project/search"

        def fetch(start: int) -> JiraPagedValues[JiraProject]:
            params: Params = {"startAt": start, "maxResults": page_size, "query": query, "orderBy": "key"}
            return self._call(_PROJECT_PAGE, "GET", route, params=params)

        try:
            for page in paged_values(fetch, endpoint=f"GET {route}"):
                yield from page.values
        except NotFoundError:
            if query is None:
                raise

    def list_versions(self, project: str) -> list[JiraVersion]:
        """All versions of a project (the unpaginated endpoint)."""
        return self._call(
            _VERSIONS, "GET", self._api("/project/{project}/versions"), path={"project": project}
        )
