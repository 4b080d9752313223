"""Jira wire models: parse what pmbridge uses, ignore the rest."""

from connectors.jira.models.agile import JiraBoard, JiraBoardLocation, JiraSprint, sprints_from_field
from connectors.jira.models.changelog import (
    JiraBulkChangelogPage,
    JiraChangeHistory,
    JiraChangeItem,
    JiraChangelog,
    JiraChangelogPage,
    JiraIssueChangelog,
)
from connectors.jira.models.comment import JiraComment, JiraCommentList, JiraCommentPage, JiraVisibility
from connectors.jira.models.common import JiraEntityProperty, JiraModel, JiraPagedValues, JiraUser
from connectors.jira.models.issue import (
    CUSTOM_FIELD_PREFIX,
    JiraComponent,
    JiraIssue,
    JiraIssueFields,
    JiraIssueLink,
    JiraIssueLinkType,
    JiraIssueRef,
    JiraIssueType,
    JiraPriority,
    JiraProjectRef,
    JiraResolution,
    JiraStatus,
    JiraStatusCategory,
    JiraTimeTracking,
)
from connectors.jira.models.meta import JiraField, JiraFieldSchema, JiraServerInfo
from connectors.jira.models.project import JiraProject, JiraVersion
from connectors.jira.models.search import JiraIssuePage, JiraOffsetSearchPage, JiraTokenSearchPage
from connectors.jira.models.webhook import (
    JiraCommentEvent,
    JiraIssueEvent,
    JiraUnsupportedEvent,
    JiraVersionEvent,
    JiraWebhookChangelog,
    JiraWebhookEvent,
)
from connectors.jira.models.worklog import JiraChangedWorklogPage, JiraWorklog, JiraWorklogChange

__all__ = [
    "CUSTOM_FIELD_PREFIX",
    "JiraBoard",
    "JiraBoardLocation",
    "JiraBulkChangelogPage",
    "JiraChangeHistory",
    "JiraChangeItem",
    "JiraChangedWorklogPage",
    "JiraChangelog",
    "JiraChangelogPage",
    "JiraComment",
    "JiraCommentEvent",
    "JiraCommentList",
    "JiraCommentPage",
    "JiraComponent",
    "JiraEntityProperty",
    "JiraField",
    "JiraFieldSchema",
    "JiraIssue",
    "JiraIssueChangelog",
    "JiraIssueEvent",
    "JiraIssueFields",
    "JiraIssueLink",
    "JiraIssueLinkType",
    "JiraIssuePage",
    "JiraIssueRef",
    "JiraIssueType",
    "JiraModel",
    "JiraOffsetSearchPage",
    "JiraPagedValues",
    "JiraPriority",
    "JiraProject",
    "JiraProjectRef",
    "JiraResolution",
    "JiraServerInfo",
    "JiraSprint",
    "JiraStatus",
    "JiraStatusCategory",
    "JiraTimeTracking",
    "JiraTokenSearchPage",
    "JiraUnsupportedEvent",
    "JiraUser",
    "JiraVersion",
    "JiraVersionEvent",
    "JiraVisibility",
    "JiraWebhookChangelog",
    "JiraWebhookEvent",
    "JiraWorklog",
    "JiraWorklogChange",
    "sprints_from_field",
]
