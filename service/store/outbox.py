"""The outbox: work to do on a provider, once per idempotency key, retried until done or dead."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import OutboxStatus
from service.store.dialect import table_of, upsert_insert
from service.store.orm import OutboxRow


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


def list_due_outbox(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(OutboxRow.id)
            .where(OutboxRow.status == OutboxStatus.PENDING.value, OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
    )
