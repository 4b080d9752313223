"""Admin-webhook payloads. They use the REST v2 representation: string comment bodies, v2 `self` links.

`timestamp` is epoch milliseconds. Comment events carry a trimmed issue (six fields) and no `user`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from connectors.jira.models.changelog import JiraChangeItem
from connectors.jira.models.comment import JiraComment
from connectors.jira.models.common import JiraModel, JiraUser
from connectors.jira.models.issue import JiraIssue
from connectors.jira.models.project import JiraVersion

IssueEventName = Literal["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]
CommentEventName = Literal["comment_created", "comment_updated", "comment_deleted"]
VersionEventName = Literal[
    "jira:version_created",
    "jira:version_updated",
    "jira:version_released",
    "jira:version_unreleased",
    "jira:version_deleted",
    "jira:version_moved",
]


class JiraWebhookChangelog(JiraModel):
    id: str | None = None
    items: list[JiraChangeItem] = Field(default_factory=list)


class JiraIssueEvent(JiraModel):
    webhook_event: IssueEventName
    timestamp: AwareDatetime | None = None
    issue_event_type_name: str | None = None
    user: JiraUser | None = None
    issue: JiraIssue
    changelog: JiraWebhookChangelog | None = None

    @property
    def action(self) -> Literal["created", "updated", "deleted"]:
        return _ISSUE_ACTIONS[self.webhook_event]


class JiraCommentEvent(JiraModel):
    webhook_event: CommentEventName
    timestamp: AwareDatetime | None = None
    comment: JiraComment
    issue: JiraIssue

    @property
    def action(self) -> Literal["created", "updated", "deleted"]:
        return _COMMENT_ACTIONS[self.webhook_event]


class JiraVersionEvent(JiraModel):
    webhook_event: VersionEventName
    timestamp: AwareDatetime | None = None
    version: JiraVersion

    @property
    def action(self) -> str:
        return self.webhook_event.removeprefix("jira:version_")


class JiraUnsupportedEvent(JiraModel):
    """Any other event (worklog_*, sprint_*, project_*, …): acknowledged, not processed."""

    webhook_event: str | None = None
    timestamp: AwareDatetime | None = None


JiraWebhookEvent = JiraIssueEvent | JiraCommentEvent | JiraVersionEvent | JiraUnsupportedEvent

_ISSUE_ACTIONS: dict[str, Literal["created", "updated", "deleted"]] = {
    "jira:issue_created": "created",
    "jira:issue_updated": "updated",
    "jira:issue_deleted": "deleted",
}
_COMMENT_ACTIONS: dict[str, Literal["created", "updated", "deleted"]] = {
    "comment_created": "created",
    "comment_updated": "updated",
    "comment_deleted": "deleted",
}
