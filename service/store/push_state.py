"""Rows behind pushing flags back to the provider: project opt-in, queued comments, pushed state.

An outbox row of a flag is claimed before its provider call: the claim counts the attempt and
pushes `next_attempt_at` out by a lease, so a worker that dies mid-call leaves a row that becomes
due again when the lease ends, and a second worker skips a row another one holds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.domain.enums import OutboxStatus
from service.errors import NotFoundError
from service.store.orm import OutboxRow


def find_outbox_by_key(session: Session, *, idempotency_key: str) -> OutboxRow | None:
    return session.scalars(
        select(OutboxRow).where(OutboxRow.idempotency_key == idempotency_key)
    ).one_or_none()


def rearm_outbox(row: OutboxRow, *, now: datetime) -> None:
    """Queue a finished row's work again (the same key is due once more)."""
    row.status = OutboxStatus.PENDING.value
    row.attempts = 0
    row.next_attempt_at = now
    row.external_ref = None
    row.last_error = None
    row.updated_at = now


def list_due_outbox_of_kind(session: Session, *, kind: str, now: datetime, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(OutboxRow.id)
            .where(
                OutboxRow.kind == kind,
                OutboxRow.status == OutboxStatus.PENDING.value,
                OutboxRow.next_attempt_at <= now,
            )
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
    )


def claim_outbox(
    session: Session, *, outbox_id: int, now: datetime, lease_until: datetime
) -> OutboxRow | None:
    """Take a due row for one attempt; None when it is not due any more (done, or held by another)."""
    claimed = session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.id == outbox_id,
            OutboxRow.status == OutboxStatus.PENDING.value,
            OutboxRow.next_attempt_at <= now,
        )
        .values(attempts=OutboxRow.attempts + 1, next_attempt_at=lease_until, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    row = session.get(OutboxRow, outbox_id, populate_existing=True)
    return row


def finish_outbox(session: Session, *, outbox_id: int, external_ref: str | None, now: datetime) -> None:
    row = _get_outbox(session, outbox_id)
    row.status = OutboxStatus.DONE.value
    row.external_ref = external_ref
    row.last_error = None
    row.updated_at = now


def reschedule_outbox(session: Session, *, outbox_id: int, at: datetime, error: str, now: datetime) -> None:
    row = _get_outbox(session, outbox_id)
    row.next_attempt_at = at
    row.last_error = error
    row.updated_at = now


def bury_outbox(session: Session, *, outbox_id: int, error: str, now: datetime) -> None:
    row = _get_outbox(session, outbox_id)
    row.status = OutboxStatus.DEAD.value
    row.last_error = error
    row.updated_at = now


def _get_outbox(session: Session, outbox_id: int) -> OutboxRow:
    row = session.get(OutboxRow, outbox_id)
    if row is None:
        raise NotFoundError(f"outbox row {outbox_id} not found", details={"outbox_id": outbox_id})
    return row
