"""The Jira site's objects, compact (slots, epoch milliseconds) so 100,000 issues fit and sort cheaply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Field ids of the custom fields a typical Cloud site has; clients must discover them through GET /field.
STORY_POINTS_FIELD = "customfield_10016"
START_DATE_FIELD = "customfield_10015"
RANK_FIELD = "customfield_10019"
SPRINT_FIELD = "customfield_10020"
FLAGGED_FIELD = "customfield_10021"
# The Flagged checkbox option: [{"self": …/customFieldOption/10019, "value": "Impediment", "id": "10019"}].
FLAGGED_OPTION_ID = "10019"


@dataclass(frozen=True, slots=True)
class StatusCategory:
    id: int
    key: str
    color_name: str
    name: str


# Category keys/ids/colours as seen on real Cloud sites (reference §3, CAPS).
TODO = StatusCategory(2, "new", "blue-gray", "To Do")
IN_PROGRESS = StatusCategory(4, "indeterminate", "yellow", "In Progress")
DONE = StatusCategory(3, "done", "green", "Done")
STATUS_CATEGORIES = (TODO, IN_PROGRESS, DONE)


@dataclass(frozen=True, slots=True)
class Status:
    id: str
    name: str
    category: StatusCategory
    transition_id: str


STATUSES: tuple[Status, ...] = (
    Status("10000", "To Do", TODO, "11"),
    Status("3", "In Progress", IN_PROGRESS, "21"),
    Status("10002", "In Review", IN_PROGRESS, "31"),
    Status("10003", "Blocked", IN_PROGRESS, "41"),
    Status("10001", "Done", DONE, "51"),
)
STATUS_BY_ID = {s.id: s for s in STATUSES}
STATUS_BY_NAME = {s.name.lower(): s for s in STATUSES}


@dataclass(frozen=True, slots=True)
class IssueType:
    id: str
    name: str
    subtask: bool
    hierarchy_level: int


ISSUE_TYPES: tuple[IssueType, ...] = (
    IssueType("10000", "Epic", False, 1),
    IssueType("10001", "Story", False, 0),
    IssueType("10002", "Task", False, 0),
    IssueType("10004", "Bug", False, 0),
    IssueType("10003", "Subtask", True, -1),
)
ISSUE_TYPE_BY_ID = {t.id: t for t in ISSUE_TYPES}
ISSUE_TYPE_BY_NAME = {t.name.lower(): t for t in ISSUE_TYPES}


@dataclass(frozen=True, slots=True)
class Priority:
    id: str
    name: str


PRIORITIES: tuple[Priority, ...] = (
    Priority("1", "Highest"),
    Priority("2", "High"),
    Priority("3", "Medium"),
    Priority("4", "Low"),
    Priority("5", "Lowest"),
)
PRIORITY_BY_ID = {p.id: p for p in PRIORITIES}
PRIORITY_BY_NAME = {p.name.lower(): p for p in PRIORITIES}


@dataclass(slots=True)
class User:
    account_id: str
    display_name: str
    email: str
    time_zone: str = "UTC"
    active: bool = True


@dataclass(slots=True)
class Version:
    id: int
    project_id: int
    name: str
    description: str = ""
    start_date: str | None = None
    release_date: str | None = None
    released: bool = False
    archived: bool = False


@dataclass(slots=True)
class Project:
    id: int
    key: str
    name: str
    lead_id: str
    client: str = ""
    next_number: int = 1
    description: str = ""


@dataclass(slots=True)
class Board:
    id: int
    name: str
    project_id: int
    type: str = "scrum"


@dataclass(slots=True)
class Sprint:
    id: int
    board_id: int
    name: str
    state: str  # "future" | "active" | "closed"
    start_ms: int | None = None
    end_ms: int | None = None
    complete_ms: int | None = None
    goal: str = ""


@dataclass(frozen=True, slots=True)
class ChangeItem:
    field: str
    fieldtype: str
    field_id: str
    from_: str | None
    from_string: str | None
    to: str | None
    to_string: str | None


@dataclass(slots=True)
class History:
    id: int
    author_id: str
    created_ms: int
    items: tuple[ChangeItem, ...]


@dataclass(slots=True)
class Comment:
    id: int
    issue_id: int
    author_id: str
    body: dict[str, Any]  # an ADF document; v2 renders it as plain text
    created_ms: int
    updated_ms: int
    update_author_id: str
    visibility: dict[str, str] | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Worklog:
    id: int
    issue_id: int
    author_id: str
    started_ms: int
    time_spent_s: int
    created_ms: int
    updated_ms: int
    comment: str = ""


@dataclass(slots=True)
class Issue:
    id: int
    key: str
    number: int
    project_id: int
    type_id: str
    summary: str
    status_id: str
    priority_id: str
    reporter_id: str
    created_ms: int
    updated_ms: int
    description: str | None = None
    assignee_id: str | None = None
    resolution_ms: int | None = None
    status_changed_ms: int | None = None
    duedate: str | None = None
    start_date: str | None = None
    story_points: float | None = None
    sprint_ids: list[int] = field(default_factory=list)
    fix_version_ids: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    parent_id: int | None = None
    flagged: bool = False
    original_estimate_s: int | None = None
    time_spent_s: int | None = None
    rank: str = ""
    histories: list[History] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    worklogs: list[Worklog] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return STATUS_BY_ID[self.status_id]

    @property
    def issue_type(self) -> IssueType:
        return ISSUE_TYPE_BY_ID[self.type_id]

    def snapshot(self) -> Issue:
        """A copy whose scalar fields and lists stay as they are now; search lag serves it."""
        copy = Issue(**{name: getattr(self, name) for name in self.__slots__})
        copy.sprint_ids = list(self.sprint_ids)
        copy.fix_version_ids = list(self.fix_version_ids)
        copy.labels = list(self.labels)
        copy.histories = list(self.histories)
        copy.comments = list(self.comments)
        copy.worklogs = list(self.worklogs)
        return copy
