"""JSON representations of the site's parts (users, statuses, projects, versions, comments, histories)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.jira.adf import adf_to_text, text_to_adf
from sandbox.jira.model import (
    ISSUE_TYPE_BY_ID,
    PRIORITY_BY_ID,
    Comment,
    History,
    Issue,
    Status,
    Version,
    Worklog,
)
from sandbox.jira.timefmt import format_jira, format_utc_z

if TYPE_CHECKING:
    from sandbox.jira.state import JiraWorld

Json = dict[str, Any]
# Real search items carry this expand string (reference §2, CAPS).
ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"
_TIME_FIELDS = ("created", "updated", "resolutiondate", "statuscategorychangedate")


class PartsRenderer:
    """Renders for one base URL and API version: v3 carries ADF text, v2 plain strings."""

    def __init__(self, world: JiraWorld, *, base_url: str, api_version: str) -> None:
        self.world = world
        self.base = base_url.rstrip("/")
        self.version = api_version
        self.api = f"{self.base}/rest/api/{api_version}"
        self._users: dict[str, Json] = {}
        self._statuses: dict[str, Json] = {}
        self._projects: dict[int, Json] = {}
        self._issue_types: dict[str, Json] = {}
        self._priorities: dict[str, Json] = {}
        # Field values shared by many issues of one response (never handed out to be modified).
        self.field_sprints: dict[int, Json] = {}
        self.field_versions: dict[int, Json] = {}

    def time(self, ms: int | None) -> str | None:
        return None if ms is None else format_jira(ms, self.world.tz)

    def text(self, value: str | None) -> Any:
        if value is None:
            return None
        return text_to_adf(value) if self.version == "3" else value

    def body(self, adf: Json) -> Any:
        return adf if self.version == "3" else adf_to_text(adf)

    def user(self, account_id: str | None) -> Json | None:
        if account_id is None:
            return None
        cached = self._users.get(account_id)
        if cached is None:
            user = self.world.users[account_id]
            avatar = f"https://avatar-management.example/{account_id}"
            cached = {
                "self": f"{self.api}/user?accountId={account_id}",
                "accountId": account_id,
                "emailAddress": user.email,
                "avatarUrls": {size: f"{avatar}/{size}" for size in ("48x48", "24x24", "16x16", "32x32")},
                "displayName": user.display_name,
                "active": user.active,
                "timeZone": user.time_zone,
                "accountType": "atlassian",
            }
            self._users[account_id] = cached
        return cached

    def status(self, status: Status) -> Json:
        cached = self._statuses.get(status.id)
        if cached is None:
            category = status.category
            cached = {
                "self": f"{self.api}/status/{status.id}",
                "description": "",
                "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
                "name": status.name,
                "id": status.id,
                "statusCategory": {
                    "self": f"{self.api}/statuscategory/{category.id}",
                    "id": category.id,
                    "key": category.key,
                    "colorName": category.color_name,
                    "name": category.name,
                },
            }
            self._statuses[status.id] = cached
        return cached

    def issue_type(self, type_id: str) -> Json:
        cached = self._issue_types.get(type_id)
        if cached is None:
            cached = self._issue_types[type_id] = self._issue_type(type_id)
        return cached

    def _issue_type(self, type_id: str) -> Json:
        issue_type = ISSUE_TYPE_BY_ID[type_id]
        return {
            "self": f"{self.api}/issuetype/{type_id}",
            "id": type_id,
            "description": "",
            "iconUrl": f"{self.base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{type_id}",
            "name": issue_type.name,
            "subtask": issue_type.subtask,
            "avatarId": int(type_id),
            "hierarchyLevel": issue_type.hierarchy_level,
        }

    def priority(self, priority_id: str) -> Json:
        cached = self._priorities.get(priority_id)
        if cached is None:
            cached = self._priorities[priority_id] = self._priority(priority_id)
        return cached

    def _priority(self, priority_id: str) -> Json:
        priority = PRIORITY_BY_ID[priority_id]
        return {
            "self": f"{self.api}/priority/{priority_id}",
            "iconUrl": f"{self.base}/images/icons/priorities/{priority.name.lower()}.svg",
            "name": priority.name,
            "id": priority_id,
        }

    def project(self, project_id: int) -> Json:
        cached = self._projects.get(project_id)
        if cached is None:
            project = self.world.projects[project_id]
            cached = {
                "self": f"{self.api}/project/{project_id}",
                "id": str(project_id),
                "key": project.key,
                "name": project.name,
                "projectTypeKey": "software",
                "simplified": False,
                "avatarUrls": {
                    "48x48": f"{self.base}/rest/api/3/universal_avatar/view/type/project/avatar/10400"
                },
            }
            self._projects[project_id] = cached
        return cached

    def project_full(self, project_id: int) -> Json:
        project = self.world.projects[project_id]
        return {
            **self.project(project_id),
            "description": project.description
            or (f"Delivery for {project.client}" if project.client else ""),
            "lead": self.user(project.lead_id),
            "isPrivate": False,
            "style": "classic",
        }

    def version_json(self, version: Version) -> Json:
        body: Json = {
            "self": f"{self.api}/version/{version.id}",
            "id": str(version.id),
            "name": version.name,
            "description": version.description,
            "archived": version.archived,
            "released": version.released,
            "projectId": version.project_id,
        }
        if version.start_date:
            body["startDate"] = version.start_date
        if version.release_date:
            body["releaseDate"] = version.release_date
            body["overdue"] = not version.released and version.release_date < self.world.today()
        return body

    def sprint_json(self, sprint_id: int) -> Json:
        sprint = self.world.sprints[sprint_id]
        body: Json = {
            "id": sprint.id,
            "name": sprint.name,
            "state": sprint.state,
            "boardId": sprint.board_id,
            "goal": sprint.goal,
        }
        if sprint.start_ms is not None:
            body["startDate"] = format_utc_z(sprint.start_ms)
        if sprint.end_ms is not None:
            body["endDate"] = format_utc_z(sprint.end_ms)
        if sprint.complete_ms is not None:
            body["completeDate"] = format_utc_z(sprint.complete_ms)
        return body

    def issue_link(self, issue: Issue) -> Json:
        """The short form Jira uses for `parent` and `subtasks`."""
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self.api}/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "status": self.status(issue.status),
                "priority": self.priority(issue.priority_id),
                "issuetype": self.issue_type(issue.type_id),
            },
        }

    def comment(self, comment: Comment) -> Json:
        body: Json = {
            "self": f"{self.api}/issue/{comment.issue_id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self.user(comment.author_id),
            "body": self.body(comment.body),
            "updateAuthor": self.user(comment.update_author_id),
            "created": self.time(comment.created_ms),
            "updated": self.time(comment.updated_ms),
            "jsdPublic": True,
        }
        if comment.visibility:
            body["visibility"] = comment.visibility
        return body

    def worklog(self, worklog: Worklog) -> Json:
        return {
            "self": f"{self.api}/issue/{worklog.issue_id}/worklog/{worklog.id}",
            "author": self.user(worklog.author_id),
            "updateAuthor": self.user(worklog.author_id),
            "comment": self.text(worklog.comment) if worklog.comment else None,
            "created": self.time(worklog.created_ms),
            "updated": self.time(worklog.updated_ms),
            "started": self.time(worklog.started_ms),
            "timeSpent": duration(worklog.time_spent_s),
            "timeSpentSeconds": worklog.time_spent_s,
            "id": str(worklog.id),
            "issueId": str(worklog.issue_id),
        }

    def history(self, history: History) -> Json:
        return {
            "id": str(history.id),
            "author": self.user(history.author_id),
            "created": self.time(history.created_ms),
            "items": [
                {
                    "field": item.field,
                    "fieldtype": item.fieldtype,
                    "fieldId": item.field_id,
                    "from": item.from_,
                    "fromString": item.from_string,
                    "to": item.to,
                    "toString": item.to_string,
                }
                for item in history.items
            ],
        }


def duration(seconds: int) -> str:
    """Jira's short duration form, e.g. `1d 2h` (8-hour days, 5-day weeks)."""
    parts: list[str] = []
    remaining = seconds
    for unit, size in (("w", 144_000), ("d", 28_800), ("h", 3_600), ("m", 60)):
        if remaining >= size:
            parts.append(f"{remaining // size}{unit}")
            remaining %= size
    return " ".join(parts) or "0m"
