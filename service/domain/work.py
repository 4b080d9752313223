"""What the providers track, normalized: sources, projects, people, work items, milestones, changes,
worklogs, activity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from service.domain.enums import (
    ActivityKind,
    ItemKind,
    MilestoneKind,
    Priority,
    SourceKind,
    StatusCategory,
    Visibility,
)

# JSON as stored: the provider's payload, evidence, settings. It never crosses a provider boundary
# untyped; inside the domain it is opaque data carried along.
JSON = Any


class JsonText(str):
    """A JSON document kept as the text the provider sent, stored as it is: a bulk sync reads the
    few values it maps from a payload and never builds (or re-encodes) the rest."""

    __slots__ = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One connected Jira site or Trello workspace. Credentials stay encrypted outside the store."""

    id: int | None = None
    kind: SourceKind
    name: str
    base_url: str
    settings: dict[str, JSON] = field(default_factory=dict)
    last_synced_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    external_id: str
    display_name: str
    email: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A Jira project or a Trello board."""

    id: int | None = None
    source_id: int
    external_id: str
    key: str
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestone:
    """A Jira fixVersion or sprint, or a Trello card/list marked as one."""

    id: int | None = None
    source_id: int
    project_external_id: str
    external_id: str
    name: str
    kind: MilestoneKind
    start_date: date | None = None
    due_date: date | None = None
    released: bool = False
    completed_at: datetime | None = None
    # A sprint's instant of start (`start_date` is its day), its state (`future`, `active`,
    # `closed`) and its goal; None for other milestones.
    started_at: datetime | None = None
    state: str | None = None
    goal: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkItem:
    """One Jira issue or Trello card."""

    id: int | None = None
    source_id: int
    project_external_id: str
    external_id: str
    key: str
    title: str
    kind: ItemKind
    status: str
    status_category: StatusCategory
    priority: Priority = Priority.NONE
    assignee: Person | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    parent_external_id: str | None = None
    milestone_external_ids: tuple[str, ...] = ()
    due_date: date | None = None
    start_date: date | None = None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    estimate_seconds: int | None = None
    spent_seconds: int | None = None
    story_points: float | None = None
    blocked: bool = False
    url: str | None = None
    visibility: Visibility = Visibility.VISIBLE
    raw: dict[str, JSON] | JsonText = field(default_factory=dict)

    @property
    def is_done(self) -> bool:
        return self.status_category is StatusCategory.DONE

    def days_overdue(self, today: date) -> int:
        """Whole days past the due date for unfinished work; 0 when not due, done or gone."""
        if self.due_date is None or self.is_done or self.visibility is not Visibility.VISIBLE:
            return 0
        return max(0, (today - self.due_date).days)


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One field change on an item: Jira changelog item or Trello action."""

    id: int | None = None
    source_id: int
    item_external_id: str
    # Unique within the source: Jira "<history id>:<index>", Trello "<action id>".
    external_id: str
    field: str
    from_value: str | None = None
    to_value: str | None = None
    from_display: str | None = None
    to_display: str | None = None
    author: str | None = None
    changed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Worklog:
    """Time logged on an item: one Jira worklog."""

    id: int | None = None
    source_id: int
    item_external_id: str
    # The provider's worklog id, unique within the source.
    external_id: str
    started_at: datetime
    spent_seconds: int
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity:
    """A sign of work on an item that changes none of its fields: a comment, a checklist ticked, a
    member added. What activity needs and nothing more: which item, what kind, who and when. A
    comment's text is never kept.

    One row per comment (edits move `updated_at`; a deleted comment is no longer activity) and one
    per other Trello card action (`updated_at` equals `created_at`).
    """

    id: int | None = None
    source_id: int
    item_external_id: str
    # Unique within the source: the Jira comment id, the Trello comment's or action's id.
    external_id: str
    kind: ActivityKind
    author: str | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def last_at(self) -> datetime:
        return max(self.created_at, self.updated_at)


# Jira's statusCategory keys: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-status-categories/
_JIRA_STATUS_CATEGORY = {
    "new": StatusCategory.TODO,
    "undefined": StatusCategory.TODO,
    "indeterminate": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}

_DONE_WORDS = ("done", "complete", "completed", "shipped", "released", "closed", "live", "deployed")
_PROGRESS_WORDS = ("doing", "progress", "review", "testing", "qa", "working", "wip", "develop", "active")


def status_category_from_jira(category_key: str) -> StatusCategory:
    return _JIRA_STATUS_CATEGORY.get(category_key.lower(), StatusCategory.TODO)


def status_category_from_list_name(list_name: str) -> StatusCategory:
    """Default category of a Trello list from its name; boards override it explicitly."""
    words = list_name.lower()
    if any(word in words for word in _DONE_WORDS):
        return StatusCategory.DONE
    if any(word in words for word in _PROGRESS_WORDS):
        return StatusCategory.IN_PROGRESS
    return StatusCategory.TODO


_PRIORITY_NAMES = {
    "highest": Priority.HIGHEST,
    "blocker": Priority.HIGHEST,
    "critical": Priority.HIGHEST,
    "high": Priority.HIGH,
    "major": Priority.HIGH,
    "medium": Priority.MEDIUM,
    "normal": Priority.MEDIUM,
    "low": Priority.LOW,
    "minor": Priority.LOW,
    "lowest": Priority.LOWEST,
    "trivial": Priority.LOWEST,
}


def priority_from_name(name: str | None) -> Priority:
    """Jira's default and legacy priority names mapped onto the five levels."""
    if not name:
        return Priority.NONE
    return _PRIORITY_NAMES.get(name.strip().lower(), Priority.NONE)


SPRINT_ID_PREFIX = "sprint:"


def sprint_milestone_id(sprint_id: int | str) -> str:
    """The milestone id of a Jira sprint: `sprint:<id>`. A Sprint changelog entry names sprints by their
    bare ids ("11, 12"); the facts read them through this too, so both name one sprint alike."""
    text = str(sprint_id).strip()
    return text if text.startswith(SPRINT_ID_PREFIX) else f"{SPRINT_ID_PREFIX}{text}"
