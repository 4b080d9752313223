"""Search envelopes: Cloud enhanced search (token) and Data Center / agile search (offset)."""

from __future__ import annotations

from pydantic import Field

from connectors.jira.models.common import JiraModel
from connectors.jira.models.issue import JiraIssue


class JiraTokenSearchPage(JiraModel):
    """`/rest/api/3/search/jql`: no `total`; `nextPageToken` is absent on the last page."""

    issues: list[JiraIssue] = Field(default_factory=list)
    next_page_token: str | None = None
    is_last: bool | None = None


class JiraOffsetSearchPage(JiraModel):
    """`/rest/api/2/search` (Data Center) and `/rest/agile/1.0/sprint/{id}/issue`."""

    start_at: int = 0
    max_results: int | None = None
    total: int | None = None
    issues: list[JiraIssue] = Field(default_factory=list)


class JiraIssuePage(JiraModel):
    """One page of a search, whichever paging the deployment uses."""

    issues: list[JiraIssue]
    next_page_token: str | None = None
    start_at: int | None = None
    total: int | None = None
