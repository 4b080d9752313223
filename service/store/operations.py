"""What an operator reviews and acts on: flags to publish or keep internal, sync runs, dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.domain.enums import FlagState, FlagSubject, InboxStatus, Severity, SyncRunKind, SyncRunStatus
from service.domain.signals import Flag
from service.errors import NotFoundError
from service.store.orm import FlagRow, InboxRow, SourceRow, SyncRunRow


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


def _flag(row: FlagRow) -> Flag:
    return Flag(
        id=row.id,
        rule_id=row.rule_id,
        subject=FlagSubject(row.subject),
        subject_id=row.subject_id,
        severity=Severity(row.severity),
        state=FlagState(row.state),
        message=row.message,
        evidence=dict(row.evidence),
        fingerprint=row.fingerprint,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        resolved_at=row.resolved_at,
        client_text=row.client_text,
        published=row.published,
    )


def list_flags(
    session: Session,
    *,
    state: FlagState | None = None,
    published: bool | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Flag]:
    query = select(FlagRow).where(FlagRow.id > after_id).order_by(FlagRow.id).limit(limit)
    if state is not None:
        query = query.where(FlagRow.state == state.value)
    if published is not None:
        query = query.where(FlagRow.published.is_(published))
    return [_flag(row) for row in session.scalars(query)]


def get_flag(session: Session, *, flag_id: int) -> Flag:
    row = session.get(FlagRow, flag_id)
    if row is None:
        raise NotFoundError(f"flag {flag_id} not found", details={"flag_id": flag_id})
    return _flag(row)


def publish_flag(session: Session, *, flag_id: int, client_text: str) -> Flag:
    """Show a flag to the clients who see its subject, in the operator's wording (never the rule's)."""
    row = session.get(FlagRow, flag_id)
    if row is None:
        raise NotFoundError(f"flag {flag_id} not found", details={"flag_id": flag_id})
    row.client_text = client_text
    row.published = True
    session.flush()
    return _flag(row)


def keep_flag_internal(session: Session, *, flag_id: int) -> Flag:
    row = session.get(FlagRow, flag_id)
    if row is None:
        raise NotFoundError(f"flag {flag_id} not found", details={"flag_id": flag_id})
    row.published = False
    session.flush()
    return _flag(row)


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
