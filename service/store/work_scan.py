"""A project's items, milestones and changes read on the driver's cursor, for rule evaluation.

Evaluating a project reads every item and change it has, after every webhook batch. Through the
ORM each row became an identity-mapped instance first (instrumentation, result processors, a
cached statement to look up), which cost more than the evaluation itself. These reads run the
same SQL the ORM ran, on the session's connection and inside its transaction, and build the
domain objects straight from the driver's tuples. Columns, their order and their conversions come
from the tables (`mapping`, `driver_rows`): values are converted exactly as the column types
convert them (`UTCDateTime`, SQLite's date, boolean and JSON text); on PostgreSQL the driver
already returns dates, booleans and JSONB decoded with the engine's deserializer. The statements
match the ORM's, so the database returns rows in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from service.domain.enums import Visibility
from service.domain.work import Change, Milestone, Project, WorkItem
from service.store.dialect import table_of
from service.store.driver_dialect import DriverDialect, driver_dialect
from service.store.driver_sql import fetch_rows
from service.store.mapping import CHANGES, MILESTONES, PROJECTS, WORK_ITEMS
from service.store.orm import ProjectRow, SourceRow, WorkItemRow

# Item ids per `IN (…)` list: far below SQLite's oldest bound-parameter limit (999).
ID_CHUNK = 500


class _Reads:
    """The statements and row readers of one dialect, built once from the tables."""

    def __init__(self, dialect: DriverDialect) -> None:
        self.dialect = dialect
        self.items = WORK_ITEMS.reader(dialect)
        self.changes = CHANGES.reader(dialect)
        self.milestones = MILESTONES.reader(dialect)
        self.projects = PROJECTS.reader(dialect)
        projects, sources, items = table_of(ProjectRow), table_of(SourceRow), table_of(WorkItemRow)
        project_id = dialect.typed_mark(projects.c.id)
        self.project_sql = f"SELECT {self.projects.select_list()} FROM projects WHERE id = {project_id}"  # noqa: S608
        self.project_external_id_sql = f"SELECT external_id FROM projects WHERE id = {project_id}"  # noqa: S608
        self.source_synced_sql = (
            f"SELECT last_synced_at FROM sources WHERE id = {dialect.typed_mark(sources.c.id)}"  # noqa: S608
        )
        self.read_synced_at = dialect.from_driver(sources.c.last_synced_at) or _identity
        where = f"WHERE project_id = {dialect.typed_mark(items.c.project_id)}"
        self.items_sql = f"SELECT {self.items.select_list()} FROM work_items {where}"  # noqa: S608
        self.items_sql_without_raw = (
            f"SELECT {self.items.select_list(replace={'raw': 'NULL'})} FROM work_items {where}"  # noqa: S608
        )
        self.visible_only = f" AND visibility = {dialect.typed_mark(items.c.visibility)}"
        self.milestones_sql = (
            f"SELECT {self.milestones.select_list()} FROM milestones "  # noqa: S608
            f"WHERE project_id = {dialect.typed_mark(MILESTONES.table.c.project_id)}"
        )
        self._item_id_mark = dialect.typed_mark(CHANGES.table.c.item_id)
        # Chunks are merged in the database's order: (changed_at, id), as the driver returned them.
        self.change_order = itemgetter(self.changes.position("changed_at"), self.changes.position("id"))
        self._change_sql: dict[int, str] = {}

    def change_sql(self, count: int) -> str:
        sql = self._change_sql.get(count)
        if sql is None:
            marks = ", ".join([self._item_id_mark] * count)
            # Only placeholders and identifiers of the table definitions are interpolated, never a value.
            sql = (
                f"SELECT {self.changes.select_list(qualified=True)} FROM changes JOIN work_items "  # noqa: S608
                f"ON work_items.id = changes.item_id WHERE changes.item_id IN ({marks}) "
                "ORDER BY changes.changed_at, changes.id"
            )
            self._change_sql[count] = sql
        return sql


def _identity(value: Any) -> Any:
    return value


_READS = {name: _Reads(driver_dialect(name)) for name in ("sqlite", "postgresql")}


def _reads_of(session: Session) -> _Reads:
    return _READS[session.get_bind().dialect.name]


def read_project(session: Session, *, project_id: int) -> Project | None:
    reads = _reads_of(session)
    found = reads.projects.build(fetch_rows(session, reads.project_sql, (project_id,)))
    return found[0] if found else None


def read_source_synced_at(session: Session, *, source_id: int) -> tuple[bool, datetime | None]:
    """Whether the source exists, and when it was last synced."""
    reads = _reads_of(session)
    rows = fetch_rows(session, reads.source_synced_sql, (source_id,))
    if not rows:
        return False, None
    synced_at: datetime | None = reads.read_synced_at(rows[0][0])
    return True, synced_at


def _project_external_id(session: Session, project_id: int) -> str:
    rows = fetch_rows(session, _reads_of(session).project_external_id_sql, (project_id,))
    if not rows:
        raise NoResultFound("No row was found when one was required")
    external_id: str = rows[0][0]
    return external_id


def read_project_items(
    session: Session, *, project_id: int, visible_only: bool = True, with_raw: bool = True
) -> list[WorkItem]:
    """The project's items (with their store ids), in the order the ORM query returned them.

    `with_raw=False` leaves each item's provider payload empty: decoding it was most of a
    project's read, and evaluation never looks at it."""
    project_external_id = _project_external_id(session, project_id)
    reads = _reads_of(session)
    sql = reads.items_sql if with_raw else reads.items_sql_without_raw
    params: tuple[Any, ...] = (project_id,)
    if visible_only:
        sql += reads.visible_only
        params = (project_id, Visibility.VISIBLE.value)
    return reads.items.build(fetch_rows(session, sql, params), project_external_id)


def read_item_changes(session: Session, *, item_ids: Sequence[int]) -> list[Change]:
    """Every change of the given items, ordered by (changed_at, id) as the database orders them.

    Long id lists are read in chunks; the chunks' rows are merged on the values as the driver
    returned them (SQLite's DATETIME text, PostgreSQL's timestamptz), which is the order the
    database itself sorts by.
    """
    ids = list(item_ids)
    if not ids:
        return []
    reads = _reads_of(session)
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        rows += fetch_rows(session, reads.change_sql(len(chunk)), chunk)
    if len(ids) > ID_CHUNK:
        rows.sort(key=reads.change_order)
    return reads.changes.build(rows)


def read_project_milestones(session: Session, *, project_id: int) -> list[Milestone]:
    project_external_id = _project_external_id(session, project_id)
    reads = _reads_of(session)
    return reads.milestones.build(
        fetch_rows(session, reads.milestones_sql, (project_id,)), project_external_id
    )
