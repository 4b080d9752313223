"""Field changes applied to an issue, with the changelog items Jira records for each (reference §4)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from sandbox.jira.model import (
    DONE,
    FLAGGED_FIELD,
    FLAGGED_OPTION_ID,
    PRIORITY_BY_ID,
    SPRINT_FIELD,
    START_DATE_FIELD,
    STATUS_BY_NAME,
    STORY_POINTS_FIELD,
    ChangeItem,
    Issue,
    Status,
)

if TYPE_CHECKING:
    from sandbox.jira.state import JiraWorld


class _Unset(Enum):
    UNSET = 0


UNSET = _Unset.UNSET
Unset = _Unset  # for callers that build changes field by field


class UnknownValueError(ValueError):
    """A change names a status, user, version or sprint the site does not have."""


@dataclass(frozen=True)
class IssueChanges:
    """What to change; UNSET fields stay as they are."""

    status: str | _Unset = UNSET
    duedate: str | _Unset | None = UNSET
    start_date: str | _Unset | None = UNSET
    assignee_id: str | _Unset | None = UNSET
    fix_version_ids: tuple[int, ...] | _Unset = UNSET
    flagged: bool | _Unset = UNSET
    story_points: float | _Unset | None = UNSET
    sprint_ids: tuple[int, ...] | _Unset = UNSET
    summary: str | _Unset = UNSET
    labels: tuple[str, ...] | _Unset = UNSET
    priority_id: str | _Unset = UNSET


def _jira(
    field: str, from_: str | None, from_string: str | None, to: str | None, to_string: str | None
) -> ChangeItem:
    return ChangeItem(field, "jira", field, from_, from_string, to, to_string)


def _date_string(day: str | None) -> str | None:
    # Jira renders date changes as `2026-06-05 00:00:00.0` in fromString/toString (reference §4).
    return None if day is None else f"{day} 00:00:00.0"


def _number(value: float | None) -> str | None:
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


def status_items(old: Status, new: Status) -> list[ChangeItem]:
    items = [_jira("status", old.id, old.name, new.id, new.name)]
    if new.category is DONE and old.category is not DONE:
        items.append(_jira("resolution", None, None, "10000", "Done"))
    elif old.category is DONE and new.category is not DONE:
        items.append(_jira("resolution", "10000", "Done", None, None))
    return items


def apply_changes(world: JiraWorld, issue: Issue, changes: IssueChanges, at_ms: int) -> list[ChangeItem]:
    """Change `issue` in place and return the changelog items; empty when nothing actually changed."""
    items: list[ChangeItem] = []
    if changes.status is not UNSET:
        new = STATUS_BY_NAME.get(changes.status.lower())
        if new is None:
            raise UnknownValueError(f"status {changes.status!r}")
        old = issue.status
        if new.id != old.id:
            items.extend(status_items(old, new))
            issue.status_id = new.id
            if new.category is not old.category:
                issue.status_changed_ms = at_ms
            if new.category is DONE:
                issue.resolution_ms = at_ms
            elif old.category is DONE:
                issue.resolution_ms = None
    if changes.duedate is not UNSET and changes.duedate != issue.duedate:
        items.append(
            _jira(
                "duedate",
                issue.duedate,
                _date_string(issue.duedate),
                changes.duedate,
                _date_string(changes.duedate),
            )
        )
        issue.duedate = changes.duedate
    if changes.start_date is not UNSET and changes.start_date != issue.start_date:
        items.append(
            ChangeItem(
                "Start date", "custom", START_DATE_FIELD, issue.start_date, issue.start_date,
                changes.start_date, changes.start_date,
            )
        )  # fmt: skip
        issue.start_date = changes.start_date
    if changes.assignee_id is not UNSET and changes.assignee_id != issue.assignee_id:
        if changes.assignee_id is not None and changes.assignee_id not in world.users:
            raise UnknownValueError(f"user {changes.assignee_id!r}")
        items.append(
            _jira(
                "assignee",
                issue.assignee_id,
                world.display_name(issue.assignee_id),
                changes.assignee_id,
                world.display_name(changes.assignee_id),
            )
        )
        issue.assignee_id = changes.assignee_id
    if changes.fix_version_ids is not UNSET:
        items.extend(_fix_version_items(world, issue, list(changes.fix_version_ids)))
    if changes.flagged is not UNSET and changes.flagged != issue.flagged:
        flag = (f"[{FLAGGED_OPTION_ID}]", "Impediment")
        before, after = (flag, (None, None)) if issue.flagged else ((None, None), flag)
        items.append(ChangeItem("Flagged", "custom", FLAGGED_FIELD, before[0], before[1], after[0], after[1]))
        issue.flagged = changes.flagged
    if changes.story_points is not UNSET and changes.story_points != issue.story_points:
        items.append(
            ChangeItem(
                "Story point estimate", "custom", STORY_POINTS_FIELD, None, _number(issue.story_points),
                None, _number(changes.story_points),
            )
        )  # fmt: skip
        issue.story_points = changes.story_points
    if changes.sprint_ids is not UNSET and list(changes.sprint_ids) != issue.sprint_ids:
        for sprint_id in changes.sprint_ids:
            if sprint_id not in world.sprints:
                raise UnknownValueError(f"sprint {sprint_id}")
        items.append(
            ChangeItem(
                "Sprint", "custom", SPRINT_FIELD,
                ", ".join(str(s) for s in issue.sprint_ids) or None, world.sprint_names(issue.sprint_ids),
                ", ".join(str(s) for s in changes.sprint_ids) or None, world.sprint_names(changes.sprint_ids),
            )
        )  # fmt: skip
        issue.sprint_ids = list(changes.sprint_ids)
    if changes.priority_id is not UNSET and changes.priority_id != issue.priority_id:
        items.append(_priority_item(issue, changes.priority_id))
    if changes.summary is not UNSET and changes.summary != issue.summary:
        items.append(_jira("summary", None, issue.summary, None, changes.summary))
        issue.summary = changes.summary
    if changes.labels is not UNSET and list(changes.labels) != issue.labels:
        items.append(
            _jira("labels", None, " ".join(issue.labels) or None, None, " ".join(changes.labels) or None)
        )
        issue.labels = list(changes.labels)
    return items


def _priority_item(issue: Issue, priority_id: str) -> ChangeItem:
    new = PRIORITY_BY_ID.get(priority_id)
    if new is None:
        raise UnknownValueError(f"priority {priority_id!r}")
    item = _jira("priority", issue.priority_id, PRIORITY_BY_ID[issue.priority_id].name, new.id, new.name)
    issue.priority_id = new.id
    return item


def _fix_version_items(world: JiraWorld, issue: Issue, wanted: list[int]) -> list[ChangeItem]:
    for version_id in wanted:
        if version_id not in world.versions:
            raise UnknownValueError(f"version {version_id}")
    items: list[ChangeItem] = []
    # Jira records one item per version added or removed, under the field name "Fix Version".
    for version_id in issue.fix_version_ids:
        if version_id not in wanted:
            name = world.versions[version_id].name
            items.append(ChangeItem("Fix Version", "jira", "fixVersions", str(version_id), name, None, None))
    for version_id in wanted:
        if version_id not in issue.fix_version_ids:
            name = world.versions[version_id].name
            items.append(ChangeItem("Fix Version", "jira", "fixVersions", None, None, str(version_id), name))
    issue.fix_version_ids = list(wanted)
    return items
