"""Jira wire models to the normalized model. Pure: no I/O, same input, same output."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date
from typing import Any

from connectors.jira.models import (
    JiraChangeHistory,
    JiraCommentStamp,
    JiraIssue,
    JiraProject,
    JiraSprint,
    JiraVersion,
    JiraWorklog,
    sprints_from_field,
)
from service.domain.enums import ActivityKind, ItemKind, MilestoneKind, StatusCategory
from service.domain.work import (
    Activity,
    Change,
    Milestone,
    Person,
    Project,
    WorkItem,
    Worklog,
    priority_from_name,
    sprint_milestone_id,
    status_category_from_jira,
)
from service.errors import ProviderDataError
from service.sync.jira_fields import JiraFieldMap

BLOCKED_WORDS = ("blocked", "impediment", "on hold")
# Jira's default link type: outward "blocks", inward "is blocked by".
BLOCKS_LINK = "blocks"


def version_milestone_id(version_id: str) -> str:
    return f"version:{version_id}"


def map_project(project: JiraProject, *, source_id: int, browse_base: str) -> Project:
    return Project(
        source_id=source_id,
        external_id=project.id,
        key=project.key,
        name=project.name,
        url=f"{browse_base}/browse/{project.key}",
    )


def map_worklog(worklog: JiraWorklog, *, source_id: int) -> Worklog | None:
    """A worklog as the store keeps it; None for one without an issue or a start (Jira always sends
    both, a partial payload is not guessed at)."""
    if worklog.issue_id is None or worklog.started is None:
        return None
    return Worklog(
        source_id=source_id,
        item_external_id=worklog.issue_id,
        external_id=worklog.id,
        started_at=worklog.started,
        spent_seconds=max(0, worklog.time_spent_seconds),
        updated_at=worklog.updated or worklog.created or worklog.started,
    )


def map_version(version: JiraVersion, *, source_id: int, project_external_id: str) -> Milestone:
    return Milestone(
        source_id=source_id,
        project_external_id=project_external_id,
        external_id=version_milestone_id(version.id),
        name=version.name,
        kind=MilestoneKind.VERSION,
        start_date=version.start_date,
        due_date=version.release_date,
        released=version.released,
    )


def map_sprint(sprint: JiraSprint, *, source_id: int, project_external_id: str) -> Milestone:
    """A sprint as a milestone of the project whose board it belongs to: due at its end, released once
    closed. Its complete date is kept only while it is closed (a sprint reopened loses it)."""
    closed = sprint.state == "closed"
    return Milestone(
        source_id=source_id,
        project_external_id=project_external_id,
        external_id=sprint_milestone_id(sprint.id),
        name=sprint.name,
        kind=MilestoneKind.SPRINT,
        # Days in UTC: the Sprint field dates sprints in UTC, the agile API with the site's offset, and
        # both must name the same day.
        start_date=sprint.start_date.astimezone(UTC).date() if sprint.start_date else None,
        due_date=sprint.end_date.astimezone(UTC).date() if sprint.end_date else None,
        released=closed,
        completed_at=sprint.complete_date if closed else None,
        started_at=sprint.start_date,
        state=sprint.state,
        goal=sprint.goal or None,
    )


def issue_sprints(issue: JiraIssue, field_map: JiraFieldMap) -> list[JiraSprint]:
    if field_map.sprint is None:
        return []
    return sprints_from_field(issue.fields.custom.get(field_map.sprint))


def map_issue(issue: JiraIssue, *, source_id: int, field_map: JiraFieldMap, browse_base: str) -> WorkItem:
    fields = issue.fields
    if fields.project is None or fields.created is None or fields.updated is None:
        raise ProviderDataError(
            f"issue {issue.key} lacks project, created or updated", details={"issue": issue.key}
        )
    category = (
        status_category_from_jira(fields.status.status_category.key)
        if fields.status and fields.status.status_category
        else StatusCategory.TODO
    )
    tracking = fields.time_tracking
    milestones = [version_milestone_id(v.id) for v in fields.fix_versions]
    milestones += [sprint_milestone_id(s.id) for s in issue_sprints(issue, field_map)]
    return WorkItem(
        source_id=source_id,
        project_external_id=fields.project.id,
        external_id=issue.id,
        key=issue.key,
        title=fields.summary or "",
        kind=_kind(issue),
        status=fields.status.name if fields.status else "",
        status_category=category,
        priority=priority_from_name(fields.priority.name if fields.priority else None),
        assignee=_person(issue),
        labels=tuple(fields.labels),
        components=tuple(c.name for c in fields.components),
        parent_external_id=fields.parent.id if fields.parent else None,
        milestone_external_ids=tuple(dict.fromkeys(milestones)),
        due_date=_promised_date(issue, field_map),
        start_date=_custom_date(issue, field_map.start_date),
        created_at=fields.created,
        updated_at=fields.updated,
        resolved_at=fields.resolution_date,
        estimate_seconds=fields.time_original_estimate
        if fields.time_original_estimate is not None
        else (tracking.original_estimate_seconds if tracking else None),
        spent_seconds=fields.time_spent
        if fields.time_spent is not None
        else (tracking.time_spent_seconds if tracking else None),
        story_points=_custom_number(issue, field_map.story_points),
        blocked=_is_blocked(issue, field_map),
        url=f"{browse_base}/browse/{issue.key}",
        raw=_stored_payload(issue.raw),
    )


def map_histories(
    issue_id: str, histories: Iterable[JiraChangeHistory], *, source_id: int, field_map: JiraFieldMap
) -> list[Change]:
    """One Change per changelog item, keyed `<history id>:<item index>` so replays dedupe."""
    changes: list[Change] = []
    names = field_map.semantic_names()
    for history in histories:
        author = history.author.display_name if history.author else None
        for index, item in enumerate(history.items):
            field_id = item.field_id or item.field
            changes.append(
                Change(
                    source_id=source_id,
                    item_external_id=issue_id,
                    external_id=f"{history.id}:{index}",
                    field=names.get(field_id, field_id),
                    from_value=item.from_value,
                    to_value=item.to_value,
                    from_display=item.from_string,
                    to_display=item.to_string,
                    author=author,
                    changed_at=history.created,
                )
            )
    return changes


def map_comment(comment: JiraCommentStamp, *, issue_id: str, source_id: int) -> Activity | None:
    """A comment as activity: on which issue, who, created and last edited when; never its text.
    None for one without a creation time (Jira always sends it; a partial payload is not guessed at)."""
    if comment.created is None:
        return None
    author = comment.author.display_name or comment.author.identity if comment.author is not None else None
    return Activity(
        source_id=source_id,
        item_external_id=issue_id,
        external_id=comment.id,
        kind=ActivityKind.COMMENT,
        author=author,
        created_at=comment.created,
        updated_at=max(comment.updated or comment.created, comment.created),
    )


def _stored_payload(raw: dict[str, Any]) -> dict[str, Any]:
    """The issue as stored: a full webhook payload embeds its comments, whose text is never kept."""
    fields = raw.get("fields")
    if isinstance(fields, dict) and "comment" in fields:
        return {**raw, "fields": {key: value for key, value in fields.items() if key != "comment"}}
    return raw


def _kind(issue: JiraIssue) -> ItemKind:
    issue_type = issue.fields.issue_type
    if issue_type is None:
        return ItemKind.TASK
    if issue_type.subtask or (issue_type.hierarchy_level is not None and issue_type.hierarchy_level < 0):
        return ItemKind.SUBTASK
    name = issue_type.name.strip().lower()
    if name == "epic" or (issue_type.hierarchy_level or 0) >= 1:
        return ItemKind.EPIC
    if name == "bug":
        return ItemKind.BUG
    if name in ("story", "user story"):
        return ItemKind.STORY
    return ItemKind.TASK


def _person(issue: JiraIssue) -> Person | None:
    assignee = issue.fields.assignee
    if assignee is None or assignee.identity is None:
        return None
    return Person(
        external_id=assignee.identity,
        display_name=assignee.display_name or assignee.identity,
        email=assignee.email_address,
    )


def _promised_date(issue: JiraIssue, field_map: JiraFieldMap) -> date | None:
    if field_map.promised_date == "duedate":
        return issue.fields.due_date
    return _custom_date(issue, field_map.promised_date)


def _custom_date(issue: JiraIssue, field_id: str | None) -> date | None:
    if field_id is None:
        return None
    value = issue.fields.custom.get(field_id)
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _custom_number(issue: JiraIssue, field_id: str | None) -> float | None:
    if field_id is None:
        return None
    value = issue.fields.custom.get(field_id)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _is_blocked(issue: JiraIssue, field_map: JiraFieldMap) -> bool:
    fields = issue.fields
    if field_map.flagged is not None and fields.custom.get(field_map.flagged):
        return True
    status = fields.status.name.lower() if fields.status else ""
    if any(word in status for word in BLOCKED_WORDS):
        return True
    if any(label.lower() in ("blocked", "impediment") for label in fields.labels):
        return True
    # An "is blocked by" link counts until it is removed: the linked issue's status is not among
    # the fields a search returns for links.
    return any(
        link.type.name.strip().lower() == BLOCKS_LINK and link.inward_issue is not None
        for link in fields.issue_links
    )
