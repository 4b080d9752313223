"""The webhook inbox: a delivery is a row before it is acknowledged, and the same delivery is one row."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Dialect, or_, select
from sqlalchemy.orm import Session

from service.domain.enums import InboxStatus
from service.store.dialect import table_of, upsert_insert
from service.store.driver_dialect import driver_dialect
from service.store.driver_rows import Const, RowMapping
from service.store.driver_sql import DriverInsert
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


RETRY_FIRST_DELAY = timedelta(seconds=30)
RETRY_MAX_DELAY = timedelta(hours=1)


class InboxInsert:
    """The intake's one write, at the driver level: a prepared INSERT … ON CONFLICT DO NOTHING
    RETURNING id on a raw connection in autocommit, so the row is durable when it returns.

    Building and executing the same statement through SQLAlchemy cost ~0.7 ms a delivery (statement
    construction, cache key, parameter processing), against ~0.1 ms this way (bench/bench_webhooks.py).
    Same row as `add_delivery`, its columns and conversions derived from the table as the sync's
    driver-level writes are (`_DELIVERIES`).
    """

    def __init__(self, dialect: Dialect) -> None:
        driver = driver_dialect(dialect.name)
        self._postgres = driver.postgres
        insert = DriverInsert(driver, _DELIVERIES.table, _DELIVERIES.write_names, conflict=_DELIVERY_KEY)
        self.sql = f"{insert.sql} RETURNING {driver.quote(_DELIVERIES.table.c.id.name)}"
        self._values = _DELIVERIES.writer(driver)

    def insert(self, dbapi_connection: Any, delivery: InboxDelivery) -> int | None:
        """The new row's id, or None when this delivery was already stored."""
        cursor = dbapi_connection.cursor()
        try:
            return self._insert(cursor, delivery)
        finally:
            cursor.close()

    def insert_many(self, dbapi_connection: Any, deliveries: Sequence[InboxDelivery]) -> list[int | None]:
        """Each delivery's new row id (None for one already stored), all in one transaction on a
        connection in autocommit: committed together when this returns, or none of them when it
        raises. One commit for many rows is a fraction of a commit each (bench/bench_webhooks.py);
        PostgreSQL also gets every INSERT in one round trip (psycopg's pipeline)."""
        if self._postgres:
            return self._insert_many_postgres(dbapi_connection, deliveries)
        cursor = dbapi_connection.cursor()
        try:
            # The write lock up front: a deferred transaction would fail at once, without waiting,
            # when another writer committed between its first read and its first write.
            cursor.execute("BEGIN IMMEDIATE")
            try:
                ids = [self._insert(cursor, delivery) for delivery in deliveries]
                cursor.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.close()
        return ids

    def _insert_many_postgres(self, connection: Any, deliveries: Sequence[InboxDelivery]) -> list[int | None]:
        ids: list[int | None] = []
        with connection.transaction(), connection.cursor() as cursor:
            cursor.executemany(self.sql, [self._values(d) for d in deliveries], returning=True)
            while True:
                row = cursor.fetchone()
                ids.append(None if row is None else int(row[0]))
                if not cursor.nextset():
                    break
        return ids

    def _insert(self, cursor: Any, delivery: InboxDelivery) -> int | None:
        cursor.execute(self.sql, self._values(delivery))
        row = cursor.fetchone()
        return None if row is None else int(row[0])


@dataclass(frozen=True, slots=True)
class InboxDelivery:
    """What the intake stores of one delivery."""

    source_id: int
    delivery_id: str
    event_type: str
    body: bytes
    received_at: datetime


_DELIVERY_KEY = ("source_id", "delivery_id")
# What the intake writes of a delivery: its fields, pending, no attempt yet.
_DELIVERIES: RowMapping[InboxDelivery] = RowMapping(
    table_of(InboxRow),
    InboxDelivery,
    write={"status": Const(InboxStatus.PENDING.value), "attempts": Const(0)},
    omit=("last_error", "processed_at", "next_attempt_at"),
)


@dataclass(frozen=True, slots=True)
class StoredDelivery:
    """A delivery as the job that processes it reads it: where it came from, its body, how far it got."""

    id: int
    source_id: int
    status: InboxStatus
    body: bytes
    attempts: int


def find_delivery(session: Session, *, inbox_id: int) -> StoredDelivery | None:
    row = session.get(InboxRow, inbox_id)
    if row is None:
        return None
    return StoredDelivery(
        id=row.id,
        source_id=row.source_id,
        status=InboxStatus(row.status),
        body=row.body,
        attempts=row.attempts,
    )


def list_pending_deliveries(
    session: Session, *, received_before: datetime, now: datetime, limit: int = 500
) -> list[int]:
    """Ids of deliveries still pending that arrived before a time and whose retry is due: what the
    sweep re-triggers."""
    return list(
        session.scalars(
            select(InboxRow.id)
            .where(
                InboxRow.status == InboxStatus.PENDING.value,
                InboxRow.received_at < received_before,
                or_(InboxRow.next_attempt_at.is_(None), InboxRow.next_attempt_at <= now),
            )
            .order_by(InboxRow.received_at, InboxRow.id)
            .limit(limit)
        )
    )


def record_delivery_outcome(
    session: Session, *, inbox_id: int, status: InboxStatus, now: datetime, error: str | None = None
) -> None:
    """Count one processing attempt and its outcome; a row left pending is due again after a backoff
    that doubles with each attempt (`retry_delay`)."""
    row = session.get(InboxRow, inbox_id)
    if row is None:
        raise LookupError(f"inbox row {inbox_id} vanished")
    row.attempts += 1
    row.status = status.value
    row.last_error = error[:2000] if error else None
    if status is InboxStatus.PENDING:
        row.next_attempt_at = now + retry_delay(row.attempts)
    else:
        row.processed_at = now
        row.next_attempt_at = None


def retry_delay(attempts: int) -> timedelta:
    """How long a delivery waits after its `attempts`-th failed attempt: 30 s, doubling, at most an hour."""
    doubled: timedelta = RETRY_FIRST_DELAY * (2 ** min(max(attempts - 1, 0), 16))
    return min(doubled, RETRY_MAX_DELAY)
