"""Worklogs: the "updated since" id feed and the worklogs themselves."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from connectors.jira.adf import AdfNode
from connectors.jira.models.common import JiraModel, JiraUser


class JiraWorklog(JiraModel):
    id: str
    issue_id: str | None = None
    author: JiraUser | None = None
    started: AwareDatetime | None = None
    time_spent_seconds: int = 0
    created: AwareDatetime | None = None
    updated: AwareDatetime | None = None
    comment: AdfNode | str | None = None


class JiraWorklogChange(JiraModel):
    worklog_id: int
    updated_time: AwareDatetime


class JiraWorklogUpdatedPage(JiraModel):
    """`GET /rest/api/{v}/worklog/updated?since=<epoch ms>`: up to 1000 ids, oldest first.

    `until` is the newest timestamp on the page and becomes the next `since`; `lastPage` ends it.
    """

    values: list[JiraWorklogChange] = Field(default_factory=list)
    since: int | None = None
    until: int | None = None
    last_page: bool = True
