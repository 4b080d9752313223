"""Reading the feed and how fresh the data behind it is.

The feed page is the hottest read (docs/ARCHITECTURE.md, hot paths): one indexed range scan on
(client_id, id) run on a connection the caller holds, with the payload fetched as the JSON text it
is stored as so it is never parsed and re-serialized.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg import errors as psycopg_errors
from psycopg import pq
from sqlalchemy import Connection, Text, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session

from service.domain.enums import SourceKind, SyncRunKind, SyncRunStatus
from service.store.driver_dialect import driver_dialect
from service.store.orm import FeedEventRow, SourceRow, SyncRunRow


@dataclass(frozen=True, slots=True)
class FeedEventRecord:
    id: int
    kind: str
    project_id: int | None
    summary: str
    payload_json: str
    occurred_at: str  # ISO 8601 in UTC with microseconds, as served: when it happened at the source
    recorded_at: str  # likewise: when pmbridge published it, the time the feed's order follows


@dataclass(frozen=True, slots=True)
class SourceFreshness:
    source_id: int
    name: str
    kind: SourceKind
    last_synced_at: datetime | None
    last_census_at: datetime | None
    census_complete: bool


# What a `FeedEventRecord` is read from (`event_record`).
FEED_EVENT_COLUMNS = (
    FeedEventRow.id,
    FeedEventRow.kind,
    FeedEventRow.project_id,
    FeedEventRow.summary,
    cast(FeedEventRow.payload, Text),
    FeedEventRow.occurred_at,
    FeedEventRow.created_at,
)

_FEED_PAGE = (
    select(*FEED_EVENT_COLUMNS)
    .where(
        FeedEventRow.client_id == bindparam("client_id"),
        FeedEventRow.id > bindparam("after_id"),
        # Events of a project dropped from the scope stay stored but are no longer served.
        or_(
            FeedEventRow.project_id.is_(None),
            FeedEventRow.project_id.in_(bindparam("projects", expanding=True)),
        ),
    )
    .order_by(FeedEventRow.id)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class FeedPageJson:
    """A page of events as the JSON array it is served as, built by the database."""

    events_json: str
    count: int
    last_id: int | None
    has_more: bool


class FeedPageQuery:
    """A feed page on a bare driver connection, for the hot path.

    The database joins the events' stored documents (each with its id, migration 0007) into the
    page's JSON array itself, so no row becomes a Python object and no JSON is built per read:
    through SQLAlchemy's statement and result machinery a page cost ~1.3 ms, against ~0.03 ms
    this way (bench/bench_feed.py). Same filter as `_FEED_PAGE`; the connection must be in
    autocommit so each page reads a fresh snapshot.

    SQLite answers in-process: one statement reads the page and a second looks one event past it.
    To PostgreSQL every statement is a round trip, whose cost to this process (~85 µs through a
    psycopg cursor, ~40 µs through libpq directly) outweighed reading the page itself. There, one
    statement reads one event past the page and leaves it out of the aggregates, prepared once per
    connection and run through psycopg's libpq connection.
    """

    def __init__(self, dialect: str) -> None:
        self._dialect = driver_dialect(dialect)
        self._postgres = self._dialect.postgres
        self._sql: dict[int, tuple[str, str]] = {}
        # PostgreSQL: the project counts whose page statement each connection has prepared.
        self._prepared: weakref.WeakKeyDictionary[Any, set[int]] = weakref.WeakKeyDictionary()
        self._prepared_lock = threading.Lock()

    def read(
        self,
        dbapi_connection: Any,
        *,
        client_id: int,
        after_id: int,
        project_ids: Collection[int],
        limit: int,
    ) -> FeedPageJson:
        ids = sorted(project_ids)
        if self._postgres:
            return self._read_postgres(dbapi_connection, (limit, client_id, after_id, *ids, limit + 1), limit)
        page_sql, more_sql = self._sqlite_statements(len(ids))
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(page_sql, (client_id, after_id, *ids, limit))
            events_json, last_id, count = cursor.fetchone()
            has_more = False
            if count == limit and last_id is not None:
                cursor.execute(more_sql, (client_id, last_id, *ids))
                has_more = cursor.fetchone() is not None
        finally:
            cursor.close()
        return FeedPageJson(events_json=events_json, count=count, last_id=last_id, has_more=has_more)

    def _sqlite_statements(self, project_count: int) -> tuple[str, str]:
        found = self._sql.get(project_count)
        if found is None:
            mark = self._dialect.mark
            projects = ", ".join([mark] * project_count) if project_count else "NULL"
            where = (
                f"client_id = {mark} AND id > {mark} AND (project_id IS NULL OR project_id IN ({projects}))"
            )
            # Only placeholders and fixed SQL are interpolated, never a value. SQLite aggregates the
            # ordered subquery's rows in its order.
            page = (
                "SELECT '[' || coalesce(group_concat(document, ','), '') || ']', max(id), count(*) "  # noqa: S608
                f"FROM (SELECT id, document FROM feed_events WHERE {where} ORDER BY id LIMIT {mark}) AS page"
            )
            more = f"SELECT 1 FROM feed_events WHERE {where} LIMIT 1"  # noqa: S608
            found = (page, more)
            self._sql[project_count] = found
        return found

    @staticmethod
    def _postgres_statement(project_count: int) -> bytes:
        """$1 the page size, $2 the client, $3 the event after which the page starts, then the
        projects, and last the page size plus one."""
        projects = ", ".join(f"${4 + n}" for n in range(project_count)) if project_count else "NULL"
        where = f"client_id = $2 AND id > $3 AND (project_id IS NULL OR project_id IN ({projects}))"
        return (
            "SELECT '[' || coalesce(string_agg(document, ',' ORDER BY id) FILTER (WHERE n <= $1), '') "  # noqa: S608
            "|| ']', max(id) FILTER (WHERE n <= $1), count(*) FROM ("
            "SELECT id, document, row_number() OVER (ORDER BY id) AS n FROM feed_events "
            f"WHERE {where} ORDER BY id LIMIT ${4 + project_count}) AS page"
        ).encode()

    def _read_postgres(self, connection: Any, params: tuple[int, ...], limit: int) -> FeedPageJson:
        pgconn = connection.pgconn
        project_count = len(params) - 4
        name = f"pmbridge_feed_page_{project_count}".encode()
        prepared = self._prepared.get(connection)
        if prepared is None or project_count not in prepared:
            _raise_on_error(pgconn.prepare(name, self._postgres_statement(project_count), None))
            with self._prepared_lock:
                self._prepared.setdefault(connection, set()).add(project_count)
        result = pgconn.exec_prepared(name, [str(value).encode() for value in params])
        _raise_on_error(result)
        events_json, last_id, read = (result.get_value(0, column) for column in range(3))
        count = int(read)
        return FeedPageJson(
            events_json=events_json.decode(),
            count=min(count, limit),
            last_id=int(last_id) if last_id is not None else None,
            has_more=count > limit,
        )


def _raise_on_error(result: Any) -> None:
    if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        raise psycopg_errors.error_from_result(result)


def _iso(value: datetime) -> str:
    aware = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat(timespec="microseconds")


def event_record(row: Sequence[Any]) -> FeedEventRecord:
    """A row of `FEED_EVENT_COLUMNS` as served."""
    return FeedEventRecord(
        id=row[0],
        kind=row[1],
        project_id=row[2],
        summary=row[3],
        payload_json=row[4] or "{}",
        occurred_at=_iso(row[5]),
        recorded_at=_iso(row[6]),
    )


_LATEST = (
    select(*_FEED_PAGE.selected_columns)
    .where(
        FeedEventRow.client_id == bindparam("client_id"),
        or_(
            FeedEventRow.project_id.is_(None),
            FeedEventRow.project_id.in_(bindparam("projects", expanding=True)),
        ),
    )
    .order_by(FeedEventRow.id.desc())
    .limit(bindparam("limit"))
)


def read_latest_events(
    connection: Connection, *, client_id: int, project_ids: Collection[int], limit: int
) -> list[FeedEventRecord]:
    """The client's `limit` newest events, newest first (for the Atom feed)."""
    rows = connection.execute(
        _LATEST, {"client_id": client_id, "projects": list(project_ids), "limit": limit}
    )
    return [event_record(row) for row in rows]


def feed_event_belongs_to(session: Session, *, event_id: int, client_id: int) -> bool:
    found = session.scalars(
        select(FeedEventRow.id).where(FeedEventRow.id == event_id, FeedEventRow.client_id == client_id)
    ).first()
    return found is not None


def list_source_freshness(session: Session, *, source_ids: Collection[int]) -> list[SourceFreshness]:
    """Each source's last successful sync and whether its last delete census completed."""
    if not source_ids:
        return []
    latest_census = (
        select(func.max(SyncRunRow.id))
        .where(
            SyncRunRow.source_id.in_(list(source_ids)),
            SyncRunRow.kind == SyncRunKind.CENSUS.value,
            SyncRunRow.status != SyncRunStatus.RUNNING.value,
        )
        .group_by(SyncRunRow.source_id)
    )
    census = {
        source_id: (status, finished_at)
        for source_id, status, finished_at in session.execute(
            select(SyncRunRow.source_id, SyncRunRow.status, SyncRunRow.finished_at).where(
                SyncRunRow.id.in_(latest_census)
            )
        )
    }
    sources = session.execute(
        select(SourceRow.id, SourceRow.name, SourceRow.kind, SourceRow.last_synced_at)
        .where(SourceRow.id.in_(list(source_ids)))
        .order_by(SourceRow.id)
    )
    result = []
    for source_id, name, kind, last_synced_at in sources:
        status, finished_at = census.get(source_id, (None, None))
        complete = status == SyncRunStatus.SUCCEEDED.value
        result.append(
            SourceFreshness(
                source_id=source_id,
                name=name,
                kind=SourceKind(kind),
                last_synced_at=last_synced_at,
                last_census_at=finished_at,
                census_complete=complete,
            )
        )
    return result
