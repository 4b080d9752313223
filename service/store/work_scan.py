"""A project's items, milestones and changes read on the driver's cursor, for rule evaluation.

Evaluating a project reads every item and change it has, after every webhook batch. Through the
ORM each row became an identity-mapped instance first (instrumentation, result processors, a
cached statement to look up), which cost more than the evaluation itself. These reads run the
same SQL the ORM ran, on the session's connection and inside its transaction, and build the
domain objects straight from the driver's tuples. Values are converted exactly as the column types
convert them (`UTCDateTime`, SQLite's date, boolean and JSON text); on PostgreSQL the driver
already returns dates, booleans and JSONB decoded with the engine's deserializer. The statements
match the ORM's, so the database returns rows in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from service.domain.enums import ItemKind, MilestoneKind, Priority, StatusCategory, Visibility
from service.domain.work import Change, Milestone, Person, Project, WorkItem
from service.store.driver_sql import datetime_from_postgres, datetime_from_sqlite, fetch_rows

# Item ids per `IN (…)` list: far below SQLite's oldest bound-parameter limit (999).
ID_CHUNK = 500

_ITEM_COLUMNS = (
    'id, source_id, project_id, external_id, "key", title, kind, status, status_category, priority, '
    "assignee_external_id, assignee_name, labels, components, parent_external_id, "
    "milestone_external_ids, due_date, start_date, created_at, updated_at, resolved_at, "
    "estimate_seconds, spent_seconds, story_points, blocked, url, visibility, visibility_changed_at, raw"
)
_CHANGE_COLUMNS = (
    "changes.id, changes.source_id, changes.item_id, changes.external_id, changes.field, "
    "changes.from_value, changes.to_value, changes.from_display, changes.to_display, changes.author, "
    "changes.changed_at, work_items.external_id"
)
_MILESTONE_COLUMNS = (
    "id, source_id, project_id, external_id, name, kind, start_date, due_date, released, completed_at"
)


E = TypeVar("E", ItemKind, StatusCategory, Priority, Visibility, MilestoneKind)


def _lookup(enum: type[E]) -> Callable[[str], E]:
    """`enum(value)` through a dict: the enum call is the slow path, kept for unknown values."""
    members = {member.value: member for member in enum}

    def convert(value: str) -> E:
        member = members.get(value)
        return member if member is not None else enum(value)

    return convert


_item_kind = _lookup(ItemKind)
_status_category = _lookup(StatusCategory)
_priority = _lookup(Priority)
_visibility = _lookup(Visibility)
_milestone_kind = _lookup(MilestoneKind)


def _sqlite_date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _sqlite_json(value: str | None) -> Any:
    return None if value is None else orjson.loads(value)


def _sqlite_boolean(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _identity(value: Any) -> Any:
    return value


class _Dialect:
    """SQL spelling and value conversions of one dialect."""

    def __init__(self, name: str) -> None:
        postgres = name == "postgresql"
        self.id_mark = "%s::BIGINT" if postgres else "?"
        self.text_mark = "%s::VARCHAR" if postgres else "?"
        # Typed loosely, as the ORM's columns are: NOT NULL columns never give None.
        self.datetime: Callable[[Any], Any] = datetime_from_postgres if postgres else datetime_from_sqlite
        self.date: Callable[[Any], Any] = _identity if postgres else _sqlite_date
        self.json: Callable[[Any], Any] = _identity if postgres else _sqlite_json
        self.boolean: Callable[[Any], Any] = _identity if postgres else _sqlite_boolean
        self._change_sql: dict[int, str] = {}

    def change_sql(self, count: int) -> str:
        sql = self._change_sql.get(count)
        if sql is None:
            marks = ", ".join([self.id_mark] * count)
            # Only placeholders and fixed SQL are interpolated, never a value.
            sql = (
                f"SELECT {_CHANGE_COLUMNS} FROM changes JOIN work_items "  # noqa: S608
                f"ON work_items.id = changes.item_id WHERE changes.item_id IN ({marks}) "
                "ORDER BY changes.changed_at, changes.id"
            )
            self._change_sql[count] = sql
        return sql


_DIALECTS = {name: _Dialect(name) for name in ("sqlite", "postgresql")}


def _dialect_of(session: Session) -> _Dialect:
    return _DIALECTS[session.get_bind().dialect.name]


def read_project(session: Session, *, project_id: int) -> Project | None:
    dialect = _dialect_of(session)
    rows = fetch_rows(
        session,
        f'SELECT id, source_id, external_id, "key", name, url FROM projects WHERE id = {dialect.id_mark}',  # noqa: S608
        (project_id,),
    )
    if not rows:
        return None
    row_id, source_id, external_id, key, name, url = rows[0]
    return Project(id=row_id, source_id=source_id, external_id=external_id, key=key, name=name, url=url)


def read_source_synced_at(session: Session, *, source_id: int) -> tuple[bool, datetime | None]:
    """Whether the source exists, and when it was last synced."""
    dialect = _dialect_of(session)
    rows = fetch_rows(
        session,
        f"SELECT last_synced_at FROM sources WHERE id = {dialect.id_mark}",  # noqa: S608
        (source_id,),
    )
    if not rows:
        return False, None
    return True, dialect.datetime(rows[0][0])


def _project_external_id(session: Session, project_id: int) -> str:
    dialect = _dialect_of(session)
    rows = fetch_rows(
        session,
        f"SELECT external_id FROM projects WHERE id = {dialect.id_mark}",  # noqa: S608
        (project_id,),
    )
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
    dialect = _dialect_of(session)
    columns = _ITEM_COLUMNS if with_raw else _ITEM_COLUMNS.removesuffix(", raw") + ", NULL"
    sql = f"SELECT {columns} FROM work_items WHERE project_id = {dialect.id_mark}"  # noqa: S608
    params: tuple[Any, ...] = (project_id,)
    if visible_only:
        sql += f" AND visibility = {dialect.text_mark}"
        params = (project_id, Visibility.VISIBLE.value)
    rows = fetch_rows(session, sql, params)
    to_datetime, to_date, to_json, to_bool = dialect.datetime, dialect.date, dialect.json, dialect.boolean
    return [
        WorkItem(
            id=row_id,
            source_id=source_id,
            project_external_id=project_external_id,
            external_id=external_id,
            key=key,
            title=title,
            kind=_item_kind(kind),
            status=status,
            status_category=_status_category(status_category),
            priority=_priority(priority),
            assignee=(
                Person(external_id=assignee_external_id, display_name=assignee_name or "")
                if assignee_external_id
                else None
            ),
            labels=tuple(to_json(labels)),
            components=tuple(to_json(components)),
            parent_external_id=parent_external_id,
            milestone_external_ids=tuple(to_json(milestone_external_ids)),
            due_date=to_date(due_date),
            start_date=to_date(start_date),
            created_at=to_datetime(created_at),
            updated_at=to_datetime(updated_at),
            resolved_at=to_datetime(resolved_at),
            estimate_seconds=estimate_seconds,
            spent_seconds=spent_seconds,
            story_points=story_points,
            blocked=to_bool(blocked),
            url=url,
            visibility=_visibility(visibility),
            raw=to_json(raw) if raw is not None else {},
        )
        for (
            row_id,
            source_id,
            _project_id,
            external_id,
            key,
            title,
            kind,
            status,
            status_category,
            priority,
            assignee_external_id,
            assignee_name,
            labels,
            components,
            parent_external_id,
            milestone_external_ids,
            due_date,
            start_date,
            created_at,
            updated_at,
            resolved_at,
            estimate_seconds,
            spent_seconds,
            story_points,
            blocked,
            url,
            visibility,
            _visibility_changed_at,
            raw,
        ) in rows
    ]


def read_item_changes(session: Session, *, item_ids: Sequence[int]) -> list[Change]:
    """Every change of the given items, ordered by (changed_at, id) as the database orders them.

    Long id lists are read in chunks; the chunks' rows are merged on the values as the driver
    returned them (SQLite's DATETIME text, PostgreSQL's timestamptz), which is the order the
    database itself sorts by.
    """
    ids = list(item_ids)
    if not ids:
        return []
    dialect = _dialect_of(session)
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        rows += fetch_rows(session, dialect.change_sql(len(chunk)), chunk)
    if len(ids) > ID_CHUNK:
        rows.sort(key=lambda row: (row[10], row[0]))
    to_datetime = dialect.datetime
    return [
        Change(
            id=row_id,
            source_id=source_id,
            item_external_id=item_external_id,
            external_id=external_id,
            field=field,
            from_value=from_value,
            to_value=to_value,
            from_display=from_display,
            to_display=to_display,
            author=author,
            changed_at=to_datetime(changed_at),
        )
        for (
            row_id,
            source_id,
            _item_id,
            external_id,
            field,
            from_value,
            to_value,
            from_display,
            to_display,
            author,
            changed_at,
            item_external_id,
        ) in rows
    ]


def read_project_milestones(session: Session, *, project_id: int) -> list[Milestone]:
    project_external_id = _project_external_id(session, project_id)
    dialect = _dialect_of(session)
    rows = fetch_rows(
        session,
        f"SELECT {_MILESTONE_COLUMNS} FROM milestones WHERE project_id = {dialect.id_mark}",  # noqa: S608
        (project_id,),
    )
    to_datetime, to_date, to_bool = dialect.datetime, dialect.date, dialect.boolean
    return [
        Milestone(
            id=row_id,
            source_id=source_id,
            project_external_id=project_external_id,
            external_id=external_id,
            name=name,
            kind=_milestone_kind(kind),
            start_date=to_date(start_date),
            due_date=to_date(due_date),
            released=to_bool(released),
            completed_at=to_datetime(completed_at),
        )
        for (
            row_id,
            source_id,
            _project_id,
            external_id,
            name,
            kind,
            start_date,
            due_date,
            released,
            completed_at,
        ) in rows
    ]
