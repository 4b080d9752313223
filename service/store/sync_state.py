"""Sync cursors (committed with the data they cover) and the record of every sync run, as the
sync writes it and the operator lists it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.domain.enums import SyncRunKind, SyncRunStatus
from service.store.dialect import upsert_insert
from service.store.orm import SourceRow, SyncCursorRow, SyncRunRow


def find_cursor(session: Session, *, source_id: int, scope: str) -> dict[str, Any] | None:
    position: dict[str, Any] | None = session.scalars(
        select(SyncCursorRow.position).where(
            SyncCursorRow.source_id == source_id, SyncCursorRow.scope == scope
        )
    ).one_or_none()
    return position


def save_cursor(
    session: Session, *, source_id: int, scope: str, position: dict[str, Any], now: datetime
) -> None:
    stmt = upsert_insert(session, SyncCursorRow).values(
        source_id=source_id, scope=scope, position=position, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_id", "scope"],
        set_={"position": stmt.excluded.position, "updated_at": stmt.excluded.updated_at},
    )
    session.execute(stmt)


def start_sync_run(session: Session, *, source_id: int, kind: SyncRunKind, now: datetime) -> int:
    row = SyncRunRow(
        source_id=source_id,
        kind=kind.value,
        status=SyncRunStatus.RUNNING.value,
        started_at=now,
        api_calls={},
        errors=[],
    )
    session.add(row)
    session.flush()
    return row.id


def finish_sync_run(
    session: Session,
    *,
    run_id: int,
    status: SyncRunStatus,
    now: datetime,
    items_seen: int,
    items_changed: int,
    changes_added: int,
    items_deleted: int,
    api_calls: dict[str, Any],
    errors: list[str],
) -> None:
    run = session.get(SyncRunRow, run_id)
    if run is None:
        raise LookupError(f"sync run {run_id} vanished")
    run.status = status.value
    run.finished_at = now
    run.items_seen = items_seen
    run.items_changed = items_changed
    run.changes_added = changes_added
    run.items_deleted = items_deleted
    run.api_calls = api_calls
    run.errors = errors
    if status is SyncRunStatus.SUCCEEDED:
        session.execute(update(SourceRow).where(SourceRow.id == run.source_id).values(last_synced_at=now))


def fail_abandoned_runs(session: Session, *, source_id: int, now: datetime) -> int:
    """Close runs a dead worker left `running`; called by the lease holder, when no other run can be."""
    result = session.execute(
        update(SyncRunRow)
        .where(SyncRunRow.source_id == source_id, SyncRunRow.status == SyncRunStatus.RUNNING.value)
        .values(status=SyncRunStatus.FAILED.value, finished_at=now, errors=["the worker running it stopped"])
        .returning(SyncRunRow.id)
    )
    return len(result.all())


@dataclass(frozen=True, slots=True)
class SyncRunRecord:
    id: int
    source_id: int
    kind: SyncRunKind
    status: SyncRunStatus
    started_at: datetime
    finished_at: datetime | None
    items_seen: int
    items_changed: int
    changes_added: int
    items_deleted: int
    errors: tuple[str, ...]


def list_sync_runs(
    session: Session,
    *,
    source_id: int | None = None,
    before_id: int | None = None,
    status: SyncRunStatus | None = None,
    limit: int = 50,
) -> list[SyncRunRecord]:
    """Newest first."""
    query = select(SyncRunRow).order_by(SyncRunRow.id.desc()).limit(limit)
    if status is not None:
        query = query.where(SyncRunRow.status == status.value)
    if source_id is not None:
        query = query.where(SyncRunRow.source_id == source_id)
    if before_id is not None:
        query = query.where(SyncRunRow.id < before_id)
    return [
        SyncRunRecord(
            id=row.id,
            source_id=row.source_id,
            kind=SyncRunKind(row.kind),
            status=SyncRunStatus(row.status),
            started_at=row.started_at,
            finished_at=row.finished_at,
            items_seen=row.items_seen,
            items_changed=row.items_changed,
            changes_added=row.changes_added,
            items_deleted=row.items_deleted,
            errors=tuple(row.errors),
        )
        for row in session.scalars(query)
    ]
