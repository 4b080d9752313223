"""Reads of projects, milestones, items and their changes, as domain objects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import MilestoneKind, Visibility
from service.domain.work import Change, Milestone, Project, WorkItem
from service.errors import NotFoundError
from service.store.mapping import work_item_from_row
from service.store.orm import ChangeRow, MilestoneRow, ProjectRow, WorkItemRow


def find_work_item(session: Session, *, source_id: int, external_id: str) -> WorkItem | None:
    row = session.scalars(
        select(WorkItemRow).where(WorkItemRow.source_id == source_id, WorkItemRow.external_id == external_id)
    ).one_or_none()
    if row is None:
        return None
    project_external_id = session.scalars(
        select(ProjectRow.external_id).where(ProjectRow.id == row.project_id)
    ).one()
    return work_item_from_row(row, project_external_id=project_external_id)


def get_work_item(session: Session, *, source_id: int, external_id: str) -> WorkItem:
    item = find_work_item(session, source_id=source_id, external_id=external_id)
    if item is None:
        raise NotFoundError(f"work item {external_id} not found", details={"external_id": external_id})
    return item


def list_item_external_ids(session: Session, *, source_id: int, project_id: int | None = None) -> set[str]:
    """External ids of items the store holds as visible (for the delete census)."""
    query = select(WorkItemRow.external_id).where(
        WorkItemRow.source_id == source_id, WorkItemRow.visibility == Visibility.VISIBLE.value
    )
    if project_id is not None:
        query = query.where(WorkItemRow.project_id == project_id)
    return set(session.scalars(query))


def list_changes(session: Session, *, item_id: int) -> list[ChangeRow]:
    return list(
        session.scalars(
            select(ChangeRow).where(ChangeRow.item_id == item_id).order_by(ChangeRow.changed_at, ChangeRow.id)
        )
    )


def list_projects(session: Session, *, source_id: int) -> list[Project]:
    rows = session.scalars(
        select(ProjectRow).where(ProjectRow.source_id == source_id).order_by(ProjectRow.key)
    )
    return [
        Project(id=r.id, source_id=r.source_id, external_id=r.external_id, key=r.key, name=r.name, url=r.url)
        for r in rows
    ]


def list_item_keys_by_external_id(
    session: Session, *, source_id: int, external_ids: Iterable[str]
) -> dict[str, str]:
    ids = list(external_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(WorkItemRow.external_id, WorkItemRow.key).where(
            WorkItemRow.source_id == source_id, WorkItemRow.external_id.in_(ids)
        )
    )
    return {external_id: key for external_id, key in rows}


def find_project(session: Session, *, project_id: int) -> Project | None:
    row = session.get(ProjectRow, project_id)
    if row is None:
        return None
    return Project(
        id=row.id,
        source_id=row.source_id,
        external_id=row.external_id,
        key=row.key,
        name=row.name,
        url=row.url,
    )


def find_project_by_key(session: Session, *, key: str) -> ProjectRow | None:
    return session.scalars(select(ProjectRow).where(ProjectRow.key == key).order_by(ProjectRow.id)).first()


def list_project_items(session: Session, *, project_id: int, visible_only: bool = True) -> list[WorkItem]:
    """The project's items as domain objects (with their store ids)."""
    external_id = session.scalars(select(ProjectRow.external_id).where(ProjectRow.id == project_id)).one()
    query = select(WorkItemRow).where(WorkItemRow.project_id == project_id)
    if visible_only:
        query = query.where(WorkItemRow.visibility == Visibility.VISIBLE.value)
    return [work_item_from_row(row, project_external_id=external_id) for row in session.scalars(query)]


def list_item_changes(session: Session, *, item_ids: Iterable[int]) -> list[Change]:
    """Every change of the given items as domain objects, oldest first."""
    ids = list(item_ids)
    if not ids:
        return []
    rows = session.execute(
        select(ChangeRow, WorkItemRow.external_id)
        .join(WorkItemRow, WorkItemRow.id == ChangeRow.item_id)
        .where(ChangeRow.item_id.in_(ids))
        .order_by(ChangeRow.changed_at, ChangeRow.id)
    )
    return [
        Change(
            id=row.id,
            source_id=row.source_id,
            item_external_id=item_external_id,
            external_id=row.external_id,
            field=row.field,
            from_value=row.from_value,
            to_value=row.to_value,
            from_display=row.from_display,
            to_display=row.to_display,
            author=row.author,
            changed_at=row.changed_at,
        )
        for row, item_external_id in rows
    ]


def list_project_milestones(session: Session, *, project_id: int) -> list[Milestone]:
    external_id = session.scalars(select(ProjectRow.external_id).where(ProjectRow.id == project_id)).one()
    rows = session.scalars(select(MilestoneRow).where(MilestoneRow.project_id == project_id))
    return [
        Milestone(
            id=r.id,
            source_id=r.source_id,
            project_external_id=external_id,
            external_id=r.external_id,
            name=r.name,
            kind=MilestoneKind(r.kind),
            start_date=r.start_date,
            due_date=r.due_date,
            released=r.released,
            completed_at=r.completed_at,
        )
        for r in rows
    ]


def list_project_ids(session: Session) -> list[int]:
    return list(session.scalars(select(ProjectRow.id).order_by(ProjectRow.id)))


def stored_updated_at(
    session: Session, *, source_id: int, external_ids: Iterable[str]
) -> dict[str, datetime]:
    """When the stored payload of each item was last updated at the provider (absent: not stored)."""
    ids = list(external_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(WorkItemRow.external_id, WorkItemRow.updated_at).where(
            WorkItemRow.source_id == source_id, WorkItemRow.external_id.in_(ids)
        )
    )
    return {external_id: updated_at for external_id, updated_at in rows}
