"""Reading the feed and how fresh the data behind it is.

The feed page is the hottest read (DESIGN §3): one indexed range scan on (client_id, id) run on a
connection the caller holds, with the payload fetched as the JSON text it is stored as so it is
never parsed and re-serialized.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Text, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session

from service.domain.enums import SourceKind, SyncRunKind, SyncRunStatus
from service.store.orm import FeedEventRow, SourceRow, SyncRunRow


@dataclass(frozen=True, slots=True)
class FeedEventRecord:
    id: int
    kind: str
    project_id: int | None
    summary: str
    payload_json: str
    occurred_at: str  # ISO 8601 in UTC with microseconds, as served


@dataclass(frozen=True, slots=True)
class SourceFreshness:
    source_id: int
    name: str
    kind: SourceKind
    last_synced_at: datetime | None
    last_census_at: datetime | None
    census_complete: bool


_FEED_PAGE = (
    select(
        FeedEventRow.id,
        FeedEventRow.kind,
        FeedEventRow.project_id,
        FeedEventRow.summary,
        cast(FeedEventRow.payload, Text),
        FeedEventRow.occurred_at,
    )
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
    this way (bench/bench_feed.py). Same filter as `_FEED_PAGE`; the connection must be in autocommit so
    each page reads a fresh snapshot.
    """

    def __init__(self, dialect: str) -> None:
        self._postgres = dialect == "postgresql"
        self._mark = "%s" if self._postgres else "?"
        self._sql: dict[int, tuple[str, str]] = {}

    def _statements(self, project_count: int) -> tuple[str, str]:
        found = self._sql.get(project_count)
        if found is None:
            m = self._mark
            projects = ", ".join([m] * project_count) if project_count else "NULL"
            where = f"client_id = {m} AND id > {m} AND (project_id IS NULL OR project_id IN ({projects}))"
            if self._postgres:
                events = "string_agg(document, ',' ORDER BY id)"
            else:
                # SQLite aggregates the ordered subquery's rows in its order.
                events = "group_concat(document, ',')"
            aggregate = f"'[' || coalesce({events}, '') || ']'"
            # Only placeholders and fixed SQL are interpolated, never a value.
            page = (
                f"SELECT {aggregate}, max(id), count(*) FROM ("  # noqa: S608
                f"SELECT id, document FROM feed_events "
                f"WHERE {where} ORDER BY id LIMIT {m}) AS page"
            )
            more = f"SELECT 1 FROM feed_events WHERE {where} LIMIT 1"  # noqa: S608
            found = (page, more)
            self._sql[project_count] = found
        return found

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
        page_sql, more_sql = self._statements(len(ids))
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


def _iso(value: datetime) -> str:
    aware = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat(timespec="microseconds")


def _record(row: Sequence[Any]) -> FeedEventRecord:
    return FeedEventRecord(
        id=row[0],
        kind=row[1],
        project_id=row[2],
        summary=row[3],
        payload_json=row[4] or "{}",
        occurred_at=_iso(row[5]),
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
    return [_record(row) for row in rows]


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
