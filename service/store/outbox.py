"""The outbox: work to do on a provider, once per idempotency key, retried until done or dead.

A row's lifecycle: `enqueue_outbox` (or `rearm_outbox` for a finished row whose key is due once
more), `claim_outbox` before each provider call, then `finish_outbox`, `reschedule_outbox` or
`bury_outbox`, or `defer_outbox` when the work may not be done yet (it waits, and the claim's
attempt is given back). The claim counts the attempt and pushes `next_attempt_at` out by a lease, so a worker
that dies mid-call leaves a row that becomes due again when the lease ends, and a second worker
skips a row another one holds. A claimed row says so (`last_error` is `IN_FLIGHT` until it is
settled), so `in_flight_until` can tell a worker that another row of the same target is being
worked on right now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.domain.enums import OutboxStatus
from service.errors import NotFoundError
from service.store.dialect import table_of, upsert_insert
from service.store.orm import OutboxRow

# What a claimed row's `last_error` says while its worker holds it.
IN_FLIGHT = "in flight"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    idempotency_key: str
    kind: str
    source_id: int
    target: str
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    external_ref: str | None
    last_error: str | None


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        idempotency_key=row.idempotency_key,
        kind=row.kind,
        source_id=row.source_id,
        target=row.target,
        payload=dict(row.payload),
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        external_ref=row.external_ref,
        last_error=row.last_error,
    )


def enqueue_outbox(
    session: Session,
    *,
    idempotency_key: str,
    kind: str,
    source_id: int,
    target: str,
    payload: dict[str, Any],
    now: datetime,
) -> int | None:
    """Queue work once; returns the new row id, or None when that key is already queued."""
    stmt = (
        upsert_insert(session, OutboxRow)
        .values(
            idempotency_key=idempotency_key,
            kind=kind,
            source_id=source_id,
            target=target,
            payload=payload,
            status=OutboxStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table_of(OutboxRow).c.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def find_outbox_by_key(session: Session, *, idempotency_key: str) -> OutboxEntry | None:
    row = session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key == idempotency_key)).one_or_none()
    return None if row is None else _entry(row)


def list_due_outbox(
    session: Session, *, now: datetime, kind: str | None = None, limit: int = 100
) -> list[int]:
    """Ids of pending rows due by `now` (of one kind when given), the longest due first."""
    query = (
        select(OutboxRow.id)
        .where(OutboxRow.status == OutboxStatus.PENDING.value, OutboxRow.next_attempt_at <= now)
        .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
        .limit(limit)
    )
    if kind is not None:
        query = query.where(OutboxRow.kind == kind)
    return list(session.scalars(query))


def read_outbox_payloads(session: Session, *, outbox_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The payload of each of these rows, by id."""
    if not outbox_ids:
        return {}
    rows = session.execute(select(OutboxRow.id, OutboxRow.payload).where(OutboxRow.id.in_(outbox_ids)))
    return {row_id: dict(payload) for row_id, payload in rows}


def count_outbox_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
    return {status: count for status, count in rows}


def rearm_outbox(session: Session, *, outbox_id: int, now: datetime) -> None:
    """Queue a finished row's work again (the same key is due once more)."""
    row = _get_row(session, outbox_id)
    row.status = OutboxStatus.PENDING.value
    row.attempts = 0
    row.next_attempt_at = now
    row.external_ref = None
    row.last_error = None
    row.updated_at = now
    session.flush()


def claim_outbox(
    session: Session, *, outbox_id: int, now: datetime, lease_until: datetime
) -> OutboxEntry | None:
    """Take a due row for one attempt; None when it is not due any more (done, or held by another)."""
    claimed = session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.id == outbox_id,
            OutboxRow.status == OutboxStatus.PENDING.value,
            OutboxRow.next_attempt_at <= now,
        )
        .values(
            attempts=OutboxRow.attempts + 1, next_attempt_at=lease_until, updated_at=now, last_error=IN_FLIGHT
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    row = session.get(OutboxRow, outbox_id, populate_existing=True)
    return None if row is None else _entry(row)


def in_flight_until(
    session: Session, *, outbox_id: int, kind: str, source_id: int, target: str, now: datetime
) -> datetime | None:
    """When the lease ends of another row of the same kind and target that a worker holds now
    (claimed, not settled, its lease running); None when there is none."""
    return session.execute(
        select(func.max(OutboxRow.next_attempt_at)).where(
            OutboxRow.kind == kind,
            OutboxRow.source_id == source_id,
            OutboxRow.target == target,
            OutboxRow.id != outbox_id,
            OutboxRow.status == OutboxStatus.PENDING.value,
            OutboxRow.last_error == IN_FLIGHT,
            OutboxRow.next_attempt_at > now,
        )
    ).scalar_one_or_none()


def finish_outbox(session: Session, *, outbox_id: int, external_ref: str | None, now: datetime) -> None:
    row = _get_row(session, outbox_id)
    row.status = OutboxStatus.DONE.value
    row.external_ref = external_ref
    row.last_error = None
    row.updated_at = now


def reschedule_outbox(session: Session, *, outbox_id: int, at: datetime, error: str, now: datetime) -> None:
    row = _get_row(session, outbox_id)
    row.next_attempt_at = at
    row.last_error = error
    row.updated_at = now


def defer_outbox(session: Session, *, outbox_id: int, until: datetime, why: str, now: datetime) -> None:
    """Put a claimed row back until `until` without counting an attempt: nothing was tried."""
    row = _get_row(session, outbox_id)
    row.attempts = max(row.attempts - 1, 0)
    row.next_attempt_at = until
    row.last_error = why
    row.updated_at = now


def bury_outbox(session: Session, *, outbox_id: int, error: str, now: datetime) -> None:
    row = _get_row(session, outbox_id)
    row.status = OutboxStatus.DEAD.value
    row.last_error = error
    row.updated_at = now


def _get_row(session: Session, outbox_id: int) -> OutboxRow:
    row = session.get(OutboxRow, outbox_id)
    if row is None:
        raise NotFoundError(f"outbox row {outbox_id} not found", details={"outbox_id": outbox_id})
    return row
