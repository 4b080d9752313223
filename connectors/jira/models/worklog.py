"""Worklogs: the feeds of ids updated or deleted since an instant, and the worklogs themselves."""

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


class JiraChangedWorklogPage(JiraModel):
    """A page of `GET /rest/api/{v}/worklog/updated` or `/worklog/deleted` (`since` in epoch
    milliseconds): up to 1000 ids, oldest first, without the last minute's changes.

    `until` is the newest timestamp on the page and becomes the next `since`; `lastPage` ends it
    (OpenAPI `ChangedWorklogs`, ../shared/reference/openapi/jira-cloud-platform.v3.json).
    """

    values: list[JiraWorklogChange] = Field(default_factory=list)
    since: int | None = None
    until: int | None = None
    last_page: bool = True
