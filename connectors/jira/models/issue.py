"""The issue shape pmbridge maps (v3 from REST, v2 from webhooks and Data Center)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import AwareDatetime, Field, JsonValue, SkipValidation, model_validator

from connectors.jira.models.changelog import JiraChangelog
from connectors.jira.models.comment import JiraEmbeddedComments
from connectors.jira.models.common import JiraModel, JiraUser
from connectors.jira.models.project import JiraVersion

CUSTOM_FIELD_PREFIX = "customfield_"


class JiraStatusCategory(JiraModel):
    """Keys: `new`, `indeterminate`, `done` (and `undefined`)."""

    id: int | None = None
    key: str
    name: str | None = None
    color_name: str | None = None


class JiraStatus(JiraModel):
    id: str | None = None
    name: str
    status_category: JiraStatusCategory | None = None


class JiraIssueType(JiraModel):
    id: str | None = None
    name: str
    subtask: bool = False
    hierarchy_level: int | None = None


class JiraPriority(JiraModel):
    id: str | None = None
    name: str


class JiraResolution(JiraModel):
    id: str | None = None
    name: str


class JiraComponent(JiraModel):
    id: str | None = None
    name: str


class JiraIssueRef(JiraModel):
    id: str
    key: str


class JiraProjectRef(JiraModel):
    id: str
    key: str
    name: str | None = None


class JiraIssueLinkType(JiraModel):
    id: str | None = None
    name: str
    inward: str | None = None
    outward: str | None = None


class JiraIssueLink(JiraModel):
    """Exactly one of `inward_issue`/`outward_issue` is set: the other end of the link."""

    id: str | None = None
    type: JiraIssueLinkType
    inward_issue: JiraIssueRef | None = None
    outward_issue: JiraIssueRef | None = None


class JiraTimeTracking(JiraModel):
    """`timetracking` is `{}` when nothing is estimated or logged; seconds are the only unit used."""

    original_estimate_seconds: int | None = None
    remaining_estimate_seconds: int | None = None
    time_spent_seconds: int | None = None


class JiraIssueFields(JiraModel):
    """Standard fields by their Jira ids; `custom` holds every `customfield_*` value returned."""

    summary: str | None = None
    issue_type: JiraIssueType | None = Field(default=None, alias="issuetype")
    status: JiraStatus | None = None
    status_category_changed: AwareDatetime | None = Field(default=None, alias="statuscategorychangedate")
    priority: JiraPriority | None = None
    resolution: JiraResolution | None = None
    assignee: JiraUser | None = None
    reporter: JiraUser | None = None
    labels: list[str] = Field(default_factory=list)
    components: list[JiraComponent] = Field(default_factory=list)
    parent: JiraIssueRef | None = None
    fix_versions: list[JiraVersion] = Field(default_factory=list, alias="fixVersions")
    due_date: date | None = Field(default=None, alias="duedate")
    created: AwareDatetime | None = None
    updated: AwareDatetime | None = None
    resolution_date: AwareDatetime | None = Field(default=None, alias="resolutiondate")
    time_tracking: JiraTimeTracking | None = Field(default=None, alias="timetracking")
    time_original_estimate: int | None = Field(default=None, alias="timeoriginalestimate")
    time_estimate: int | None = Field(default=None, alias="timeestimate")
    time_spent: int | None = Field(default=None, alias="timespent")
    issue_links: list[JiraIssueLink] = Field(default_factory=list, alias="issuelinks")
    project: JiraProjectRef | None = None
    # Only when asked for (`fields=comment`) or in a full webhook payload; bodies are not read.
    comment: JiraEmbeddedComments | None = None
    custom: dict[str, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_custom_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = data.get("custom")
        custom = dict(given) if isinstance(given, dict) else {}
        custom.update((key, value) for key, value in data.items() if key.startswith(CUSTOM_FIELD_PREFIX))
        # Jira sends explicit nulls for lists it has no value for; treat them as empty.
        cleaned = {
            key: value
            for key, value in data.items()
            if not (value is None and key in {"labels", "components", "fixVersions", "issuelinks"})
        }
        return {**cleaned, "custom": custom}


class JiraIssue(JiraModel):
    """`raw` is the issue exactly as Jira sent it (kept by reference, never re-validated), so a
    consumer can store the provider payload without serializing the model back."""

    id: str
    key: str
    fields: JiraIssueFields = Field(default_factory=JiraIssueFields)
    changelog: JiraChangelog | None = None
    properties: dict[str, JsonValue] = Field(default_factory=dict)
    raw: SkipValidation[dict[str, Any]] = Field(default_factory=dict, exclude=True, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw(cls, data: Any) -> Any:
        if isinstance(data, dict) and "raw" not in data:
            return {**data, "raw": data}
        return data
