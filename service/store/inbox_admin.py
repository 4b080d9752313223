"""The webhook inbox as the operator sees it: dead letters to requeue, and deliveries counted by
status. The intake's writes and the processing loop's reads are in `inbox`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from service.domain.enums import InboxStatus
from service.errors import NotFoundError
from service.store.orm import InboxRow


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    source_id: int
    delivery_id: str
    event_type: str
    received_at: datetime
    attempts: int
    last_error: str | None


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


def count_inbox_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(InboxRow.status, func.count()).group_by(InboxRow.status))
    return {status: count for status, count in rows}


@dataclass(frozen=True, slots=True)
class WebhookDeliveryStatus:
    """How a source's webhook deliveries stand: the last one received, and how many wait or failed
    for good."""

    source_id: int
    last_received_at: datetime | None
    pending: int
    dead_letters: int


def list_webhook_delivery_statuses(
    session: Session, *, source_ids: list[int]
) -> dict[int, WebhookDeliveryStatus]:
    """Each source's deliveries, by source id (one with none counts zero), in one grouped read."""
    statuses = {
        source_id: WebhookDeliveryStatus(
            source_id=source_id, last_received_at=None, pending=0, dead_letters=0
        )
        for source_id in source_ids
    }
    if not source_ids:
        return statuses
    pending = func.sum(case((InboxRow.status == InboxStatus.PENDING.value, 1), else_=0))
    dead = func.sum(case((InboxRow.status == InboxStatus.DEAD.value, 1), else_=0))
    rows = session.execute(
        select(InboxRow.source_id, func.max(InboxRow.received_at), pending, dead)
        .where(InboxRow.source_id.in_(source_ids))
        .group_by(InboxRow.source_id)
    )
    for source_id, last, waiting, failed in rows:
        statuses[source_id] = WebhookDeliveryStatus(
            source_id=source_id,
            last_received_at=last,
            pending=int(waiting or 0),
            dead_letters=int(failed or 0),
        )
    return statuses
