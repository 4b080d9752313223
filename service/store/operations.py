"""What an operator reviews and acts on: flags to publish or keep internal, sync runs, dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.domain.enums import InboxStatus, SyncRunKind, SyncRunStatus
from service.errors import NotFoundError
from service.store.orm import InboxRow, SourceRow, SyncRunRow


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


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    source_id: int
    delivery_id: str
    event_type: str
    received_at: datetime
    attempts: int
    last_error: str | None


def list_sync_runs(
    session: Session, *, source_id: int | None = None, before_id: int | None = None, limit: int = 50
) -> list[SyncRunRecord]:
    """Newest first."""
    query = select(SyncRunRow).order_by(SyncRunRow.id.desc()).limit(limit)
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


def _dead_letter(row: InboxRow) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        source_id=row.source_id,
        delivery_id=row.delivery_id,
        event_type=row.event_type,
        received_at=row.received_at,
        attempts=row.attempts,
        last_error=row.last_error,
    )


def list_dead_letters(session: Session, *, after_id: int = 0, limit: int = 100) -> list[DeadLetter]:
    query = (
        select(InboxRow)
        .where(InboxRow.status == InboxStatus.DEAD.value, InboxRow.id > after_id)
        .order_by(InboxRow.id)
        .limit(limit)
    )
    return [_dead_letter(row) for row in session.scalars(query)]


def requeue_dead_letter(session: Session, *, inbox_id: int) -> DeadLetter:
    """Make a dead delivery pending again (its attempts are kept, for the record)."""
    row = session.get(InboxRow, inbox_id)
    if row is None or row.status != InboxStatus.DEAD.value:
        raise NotFoundError(f"no dead letter {inbox_id}", details={"inbox_id": inbox_id})
    row.status = InboxStatus.PENDING.value
    row.processed_at = None
    session.flush()
    return _dead_letter(row)


def delete_source(session: Session, *, source_id: int) -> None:
    if session.get(SourceRow, source_id) is None:
        raise NotFoundError(f"source {source_id} not found", details={"source_id": source_id})
    session.execute(delete(SourceRow).where(SourceRow.id == source_id))


def ensure_source_exists(session: Session, *, source_id: int) -> None:
    if session.get(SourceRow, source_id) is None:
        raise NotFoundError(f"source {source_id} not found", details={"source_id": source_id})


def source_has_webhook_secret(session: Session, *, source_id: int) -> bool:
    found = session.scalars(
        select(SourceRow.id).where(SourceRow.id == source_id, SourceRow.webhook_secret_encrypted.is_not(None))
    ).first()
    return found is not None
