"""Reads of projects, milestones, items and their changes, as domain objects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import Visibility
from service.domain.work import Change, Milestone, Project, WorkItem
from service.errors import NotFoundError
from service.store.driver_sql import driver_values, fetch_rows
from service.store.mapping import work_item_from_row
from service.store.orm import ChangeRow, ProjectRow, WorkItemRow
from service.store.work_scan import read_item_changes, read_project_items, read_project_milestones


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
    """External ids of items the store holds as visible (for the delete census).

    Read on the driver's cursor: a census reads every id of a source, and ORM rows cost several
    times the query.
    """
    mark = driver_values(session.get_bind().dialect.name).mark
    sql = f"SELECT external_id FROM work_items WHERE source_id = {mark} AND visibility = {mark}"  # noqa: S608
    params: tuple[object, ...] = (source_id, Visibility.VISIBLE.value)
    if project_id is not None:
        sql += f" AND project_id = {mark}"
        params += (project_id,)
    return {external_id for (external_id,) in fetch_rows(session, sql, params)}


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
    return read_project_items(session, project_id=project_id, visible_only=visible_only)


def list_item_changes(session: Session, *, item_ids: Iterable[int]) -> list[Change]:
    """Every change of the given items as domain objects, oldest first."""
    return read_item_changes(session, item_ids=list(item_ids))


def list_project_milestones(session: Session, *, project_id: int) -> list[Milestone]:
    return read_project_milestones(session, project_id=project_id)


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
