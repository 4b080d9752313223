"""Projects and versions (fixVersions are the milestones pmbridge tracks)."""

from __future__ import annotations

from datetime import date

from connectors.jira.models.common import JiraModel


class JiraProject(JiraModel):
    id: str
    key: str
    name: str
    project_type_key: str | None = None
    simplified: bool | None = None
    archived: bool | None = None


class JiraVersion(JiraModel):
    """`releaseDate` is a calendar date; `projectId` is an integer in the version resource and webhooks."""

    id: str
    name: str
    description: str | None = None
    archived: bool = False
    released: bool = False
    overdue: bool | None = None
    release_date: date | None = None
    start_date: date | None = None
    user_release_date: str | None = None
    project_id: int | None = None
