"""Worklogs: time logged on items (Jira worklogs), written a page at a time by the sync and read back
as domain values. The cost KPIs aggregate them in SQL (`kpi_queries`).

Writes go through one prepared statement run with the driver's `executemany` (the sync's fast path,
see `driver_sql`), its columns and conversions taken from the table (`mapping.WORKLOGS`).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from service.domain.work import Worklog
from service.store.driver_dialect import DriverDialect, driver_dialect
from service.store.driver_rows import RowsReader
from service.store.driver_sql import DriverInsert, fetch_rows
from service.store.items import list_item_ids_by_external_id
from service.store.mapping import WORKLOGS
from service.store.orm import WorklogRow

_CONFLICT = ("source_id", "external_id")
# Ids per `IN (…)` or bound list: well inside SQLite's bound-parameter limit.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class _Statements:
    values: DriverDialect
    upsert: DriverInsert
    reader: RowsReader[Worklog]
    select_by_source: str


@functools.cache
def _statements_for(dialect_name: str) -> _Statements:
    dialect = driver_dialect(dialect_name)
    columns = WORKLOGS.write_names
    reader = WORKLOGS.reader(dialect)
    return _Statements(
        values=dialect,
        # A worklog's latest version wins: Jira's feed names it again whenever it changes.
        upsert=DriverInsert(
            dialect,
            WORKLOGS.table,
            columns,
            conflict=_CONFLICT,
            update=[c for c in columns if c not in _CONFLICT],
        ),
        reader=reader,
        # Only identifiers of the table definitions and placeholders are interpolated.
        select_by_source=(
            f"SELECT {reader.select_list(qualified=True)} FROM worklogs "  # noqa: S608
            f"JOIN work_items ON work_items.id = worklogs.item_id WHERE worklogs.source_id = {dialect.mark} "
            "ORDER BY worklogs.started_at, worklogs.id"
        ),
    )


def _statements(session: Session) -> _Statements:
    return _statements_for(session.get_bind().dialect.name)


def save_worklogs(session: Session, *, source_id: int, worklogs: Sequence[Worklog]) -> int:
    """Write the worklogs whose items the store holds, whatever was stored for them before.

    Worklogs of items the store does not hold (an issue of a project that is not synced; Jira's feed
    covers the whole site) are left out. Returns how many were written.
    """
    if not worklogs:
        return 0
    latest = {w.external_id: w for w in sorted(worklogs, key=lambda w: w.updated_at)}
    item_ids = list_item_ids_by_external_id(
        session, source_id=source_id, external_ids={w.item_external_id for w in latest.values()}
    )
    statements = _statements(session)
    row = WORKLOGS.writer(statements.values)
    rows = [
        row(worklog, source_id, item_ids[worklog.item_external_id])
        for worklog in latest.values()
        if worklog.item_external_id in item_ids
    ]
    statements.upsert.run(session, rows)
    return len(rows)


def delete_worklogs(session: Session, *, source_id: int, external_ids: Collection[str]) -> int:
    """Delete the source's worklogs with these ids; returns how many the store held."""
    ids = sorted(set(external_ids))
    deleted = 0
    for start in range(0, len(ids), _CHUNK):
        result = session.execute(
            delete(WorklogRow)
            .where(WorklogRow.source_id == source_id, WorklogRow.external_id.in_(ids[start : start + _CHUNK]))
            .returning(WorklogRow.id)
        )
        deleted += len(result.all())
    return deleted


def list_worklog_external_ids(session: Session, *, source_id: int) -> set[str]:
    """The ids of every worklog the store holds for the source (for a full sync's reconciliation)."""
    mark = _statements(session).values.mark
    sql = f"SELECT external_id FROM worklogs WHERE source_id = {mark}"  # noqa: S608
    return {external_id for (external_id,) in fetch_rows(session, sql, (source_id,))}


def list_worklogs(session: Session, *, source_id: int) -> list[Worklog]:
    """The source's worklogs, by start."""
    statements = _statements(session)
    return statements.reader.build(fetch_rows(session, statements.select_by_source, (source_id,)))
