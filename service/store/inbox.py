"""The webhook inbox: a delivery is a row before it is acknowledged, and the same delivery is one row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import InboxStatus
from service.store.dialect import table_of, upsert_insert
from service.store.orm import InboxRow


def add_delivery(
    session: Session,
    *,
    source_id: int,
    delivery_id: str,
    event_type: str,
    body: bytes,
    received_at: datetime,
) -> int | None:
    """Store a delivery; returns its row id, or None when this delivery was already stored."""
    stmt = (
        upsert_insert(session, InboxRow)
        .values(
            source_id=source_id,
            delivery_id=delivery_id,
            event_type=event_type,
            body=body,
            received_at=received_at,
            status=InboxStatus.PENDING.value,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["source_id", "delivery_id"])
        .returning(table_of(InboxRow).c.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def find_delivery(session: Session, *, inbox_id: int) -> InboxRow | None:
    return session.get(InboxRow, inbox_id)


def list_pending_deliveries(session: Session, *, received_before: datetime, limit: int = 500) -> list[int]:
    """Ids of deliveries still pending that arrived before a time: what the sweep re-triggers."""
    return list(
        session.scalars(
            select(InboxRow.id)
            .where(InboxRow.status == InboxStatus.PENDING.value, InboxRow.received_at < received_before)
            .order_by(InboxRow.received_at, InboxRow.id)
            .limit(limit)
        )
    )


def record_delivery_outcome(
    session: Session, *, inbox_id: int, status: InboxStatus, now: datetime, error: str | None = None
) -> None:
    """Count one processing attempt and its outcome; a pending row stays due for a retry."""
    row = session.get(InboxRow, inbox_id)
    if row is None:
        raise LookupError(f"inbox row {inbox_id} vanished")
    row.attempts += 1
    row.status = status.value
    row.last_error = error[:2000] if error else None
    if status is not InboxStatus.PENDING:
        row.processed_at = now
