"""Rows to domain objects. The store hands the rest of the service domain types, never ORM rows."""

from __future__ import annotations

from service.domain.enums import ItemKind, Priority, StatusCategory, Visibility
from service.domain.work import Person, WorkItem
from service.store.orm import WorkItemRow


def work_item_from_row(row: WorkItemRow, *, project_external_id: str) -> WorkItem:
    assignee = (
        Person(external_id=row.assignee_external_id, display_name=row.assignee_name or "")
        if row.assignee_external_id
        else None
    )
    return WorkItem(
        id=row.id,
        source_id=row.source_id,
        project_external_id=project_external_id,
        external_id=row.external_id,
        key=row.key,
        title=row.title,
        kind=ItemKind(row.kind),
        status=row.status,
        status_category=StatusCategory(row.status_category),
        priority=Priority(row.priority),
        assignee=assignee,
        labels=tuple(row.labels),
        components=tuple(row.components),
        parent_external_id=row.parent_external_id,
        milestone_external_ids=tuple(row.milestone_external_ids),
        due_date=row.due_date,
        start_date=row.start_date,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        estimate_seconds=row.estimate_seconds,
        spent_seconds=row.spent_seconds,
        story_points=row.story_points,
        blocked=row.blocked,
        url=row.url,
        visibility=Visibility(row.visibility),
        raw=row.raw,
    )
