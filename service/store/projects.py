"""Projects: the sync's bulk upsert, lookups by id or key, listings, and the push-back opt-in.

A project's settings hold its push-back opt-in under `PUSH_SETTINGS_KEY` (`enabled`, `dry_run`, and
the budget: `max_per_day`, `quiet_hours`, `timezone`, `min_severity`, read and checked by
`service.flags.push_policy`); `find_push_target` reads it with the item a flag's comment goes to.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.work import Project
from service.errors import ConflictError, NotFoundError
from service.store.dialect import upsert_insert
from service.store.orm import ProjectRow, WorkItemRow

PUSH_SETTINGS_KEY = "push"


def _project(row: ProjectRow) -> Project:
    return Project(
        id=row.id,
        source_id=row.source_id,
        external_id=row.external_id,
        key=row.key,
        name=row.name,
        url=row.url,
    )


def upsert_projects(session: Session, *, projects: Sequence[Project]) -> dict[str, int]:
    """Insert or refresh projects; returns their ids by external id."""
    if not projects:
        return {}
    stmt = upsert_insert(session, ProjectRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_id", "external_id"],
        set_={"key": stmt.excluded.key, "name": stmt.excluded.name, "url": stmt.excluded.url},
    )
    session.execute(
        stmt,
        [
            {
                "source_id": p.source_id,
                "external_id": p.external_id,
                "key": p.key,
                "name": p.name,
                "url": p.url,
                "settings": {},
            }
            for p in projects
        ],
    )
    source_ids = {p.source_id for p in projects}
    rows = session.execute(
        select(ProjectRow.external_id, ProjectRow.id).where(ProjectRow.source_id.in_(source_ids))
    )
    return {external_id: row_id for external_id, row_id in rows}


def list_project_ids_by_external_id(session: Session, *, source_id: int) -> dict[str, int]:
    rows = session.execute(
        select(ProjectRow.external_id, ProjectRow.id).where(ProjectRow.source_id == source_id)
    )
    return {external_id: row_id for external_id, row_id in rows}


def find_project(session: Session, *, project_id: int) -> Project | None:
    row = session.get(ProjectRow, project_id)
    return None if row is None else _project(row)


def find_project_by_key(session: Session, *, key: str) -> Project | None:
    """The first project (by id) with this key, in any source."""
    row = session.scalars(select(ProjectRow).where(ProjectRow.key == key).order_by(ProjectRow.id)).first()
    return None if row is None else _project(row)


def get_project_by_key(session: Session, *, key: str, source_id: int | None = None) -> Project:
    """The project with this key; ambiguous across sources (`ConflictError`) unless `source_id` is given."""
    query = select(ProjectRow).where(ProjectRow.key == key)
    if source_id is not None:
        query = query.where(ProjectRow.source_id == source_id)
    rows = list(session.scalars(query.limit(2)))
    if not rows:
        raise NotFoundError(f"no project with key {key!r}", details={"key": key})
    if len(rows) > 1:
        raise ConflictError(f"several sources have a project {key!r}: name the source", details={"key": key})
    return _project(rows[0])


def list_projects(
    session: Session,
    *,
    source_id: int | None = None,
    project_ids: Collection[int] | None = None,
    after_id: int = 0,
    limit: int | None = None,
) -> list[Project]:
    """Projects by id, of one source or of every source; only `project_ids` among them when given."""
    query = select(ProjectRow).where(ProjectRow.id > after_id).order_by(ProjectRow.id)
    if source_id is not None:
        query = query.where(ProjectRow.source_id == source_id)
    if project_ids is not None:
        query = query.where(ProjectRow.id.in_(list(project_ids)))
    if limit is not None:
        query = query.limit(limit)
    return [_project(row) for row in session.scalars(query)]


def list_project_ids_by_key(session: Session, *, key: str) -> list[int]:
    """The ids of the projects with this key, in every source."""
    return list(session.scalars(select(ProjectRow.id).where(ProjectRow.key == key).order_by(ProjectRow.id)))


def lock_project(session: Session, *, project_id: int) -> None:
    """Hold the project's row until the transaction ends (PostgreSQL; SQLite has one writer at a
    time), so two drains do not both spend the last of its push-back budget."""
    session.execute(select(ProjectRow.id).where(ProjectRow.id == project_id).with_for_update())


def read_project_push_settings(session: Session, *, project_id: int) -> dict[str, Any]:
    project = session.get(ProjectRow, project_id)
    if project is None:
        raise NotFoundError(f"project {project_id} not found", details={"project_id": project_id})
    raw = project.settings.get(PUSH_SETTINGS_KEY)
    return dict(raw) if isinstance(raw, dict) else {}


def list_source_projects(session: Session, *, source_id: int) -> list[Project]:
    """A source's projects by key, as the sync walks them."""
    rows = session.scalars(
        select(ProjectRow).where(ProjectRow.source_id == source_id).order_by(ProjectRow.key)
    )
    return [_project(row) for row in rows]


def update_project_push_settings(session: Session, *, project_id: int, settings: dict[str, Any]) -> None:
    project = session.get(ProjectRow, project_id)
    if project is None:
        raise NotFoundError(f"project {project_id} not found", details={"project_id": project_id})
    # A new dict: SQLAlchemy tracks JSON columns by assignment, not by in-place mutation.
    project.settings = {**project.settings, PUSH_SETTINGS_KEY: dict(settings)}
    session.flush()


@dataclass(frozen=True, slots=True)
class PushTarget:
    """Where an item flag's comment goes: the item's issue or card and its project's opt-in."""

    item_id: int
    item_key: str
    item_external_id: str
    source_id: int
    project_id: int
    push_settings: dict[str, Any]


def find_push_target(session: Session, *, item_id: int) -> PushTarget | None:
    found = session.execute(
        select(WorkItemRow, ProjectRow)
        .join(ProjectRow, ProjectRow.id == WorkItemRow.project_id)
        .where(WorkItemRow.id == item_id)
    ).one_or_none()
    if found is None:
        return None
    item, project = found
    raw = project.settings.get(PUSH_SETTINGS_KEY)
    return PushTarget(
        item_id=item.id,
        item_key=item.key,
        item_external_id=item.external_id,
        source_id=item.source_id,
        project_id=project.id,
        push_settings=dict(raw) if isinstance(raw, dict) else {},
    )
