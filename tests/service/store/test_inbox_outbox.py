from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.domain.enums import InboxStatus, OutboxStatus
from service.store.inbox import (
    add_delivery,
    find_delivery,
    list_pending_deliveries,
    record_delivery_outcome,
    retry_delay,
)
from service.store.orm import InboxRow, OutboxRow
from service.store.outbox import (
    bury_outbox,
    claim_outbox,
    count_outbox_by_status,
    enqueue_outbox,
    find_outbox_by_key,
    finish_outbox,
    list_due_outbox,
    rearm_outbox,
)

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_add_delivery_same_delivery_twice_stores_one_row(session: Session, source_id: int) -> None:
    first = add_delivery(
        session,
        source_id=source_id,
        delivery_id="d-1",
        event_type="jira:issue_updated",
        body=b"{}",
        received_at=AT,
    )
    second = add_delivery(
        session,
        source_id=source_id,
        delivery_id="d-1",
        event_type="jira:issue_updated",
        body=b"{}",
        received_at=AT,
    )

    assert first is not None
    assert second is None
    assert session.scalar(select(func.count()).select_from(InboxRow)) == 1
    stored = find_delivery(session, inbox_id=first)
    assert stored is not None and stored.body == b"{}"


def test_inbox_duplicate_row_is_refused_by_the_database(session: Session, source_id: int) -> None:
    row = {"source_id": source_id, "delivery_id": "d-1", "event_type": "e", "body": b"", "received_at": AT}
    session.add(InboxRow(**row))
    session.flush()
    session.add(InboxRow(**row))

    with pytest.raises(IntegrityError):
        session.flush()


def test_list_pending_deliveries_returns_only_old_pending(session: Session, source_id: int) -> None:
    old = add_delivery(
        session,
        source_id=source_id,
        delivery_id="old",
        event_type="e",
        body=b"",
        received_at=AT - timedelta(minutes=10),
    )
    add_delivery(session, source_id=source_id, delivery_id="new", event_type="e", body=b"", received_at=AT)

    assert list_pending_deliveries(session, received_before=AT - timedelta(minutes=1), now=AT) == [old]


def test_enqueue_outbox_same_key_twice_queues_once(session: Session, source_id: int) -> None:
    first = enqueue_outbox(
        session,
        idempotency_key="flag:1",
        kind="jira_comment",
        source_id=source_id,
        target="ACME-1",
        payload={"flag_id": 1},
        now=AT,
    )
    second = enqueue_outbox(
        session,
        idempotency_key="flag:1",
        kind="jira_comment",
        source_id=source_id,
        target="ACME-1",
        payload={"flag_id": 1},
        now=AT,
    )

    assert first is not None
    assert second is None
    assert list_due_outbox(session, now=AT) == [first]


def test_outbox_duplicate_key_is_refused_by_the_database(session: Session, source_id: int) -> None:
    def row() -> OutboxRow:
        return OutboxRow(
            idempotency_key="k",
            kind="jira_comment",
            source_id=source_id,
            target="ACME-1",
            payload={},
            next_attempt_at=AT,
            created_at=AT,
            updated_at=AT,
        )

    session.add(row())
    session.flush()
    session.add(row())

    with pytest.raises(IntegrityError):
        session.flush()


def test_list_due_outbox_skips_future_attempts(session: Session, source_id: int) -> None:
    enqueue_outbox(
        session,
        idempotency_key="later",
        kind="jira_comment",
        source_id=source_id,
        target="ACME-1",
        payload={},
        now=AT + timedelta(minutes=5),
    )

    assert list_due_outbox(session, now=AT) == []


def test_retry_delay_doubles_from_30_seconds_up_to_an_hour() -> None:
    assert [retry_delay(n).total_seconds() for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_list_pending_deliveries_skips_a_failed_delivery_until_its_retry_is_due(
    session: Session, source_id: int
) -> None:
    failed = add_delivery(
        session, source_id=source_id, delivery_id="failed", event_type="e", body=b"", received_at=AT
    )
    assert failed is not None
    record_delivery_outcome(session, inbox_id=failed, status=InboxStatus.PENDING, now=AT, error="boom")
    session.flush()
    later = AT + timedelta(hours=1)

    assert list_pending_deliveries(session, received_before=later, now=AT + timedelta(seconds=29)) == []
    assert list_pending_deliveries(session, received_before=later, now=AT + timedelta(seconds=30)) == [failed]


def _enqueue(session: Session, source_id: int, key: str, *, kind: str = "flag_comment") -> int:
    queued = enqueue_outbox(
        session, idempotency_key=key, kind=kind, source_id=source_id, target="ACME-1", payload={}, now=AT
    )
    assert queued is not None
    return queued


def test_list_due_outbox_of_one_kind_skips_the_others(session: Session, source_id: int) -> None:
    comment = _enqueue(session, source_id, "a")
    _enqueue(session, source_id, "b", kind="other")

    assert list_due_outbox(session, now=AT, kind="flag_comment") == [comment]


def test_outbox_lifecycle_claim_then_finish_or_bury_and_rearm(session: Session, source_id: int) -> None:
    done, dead = _enqueue(session, source_id, "done"), _enqueue(session, source_id, "dead")
    lease = AT + timedelta(minutes=5)

    claimed = claim_outbox(session, outbox_id=done, now=AT, lease_until=lease)
    assert claimed is not None and (claimed.attempts, claimed.next_attempt_at) == (1, lease)
    assert claim_outbox(session, outbox_id=done, now=AT, lease_until=lease) is None
    finish_outbox(session, outbox_id=done, external_ref="c-1", now=AT)
    bury_outbox(session, outbox_id=dead, error="gone", now=AT)
    session.flush()

    assert count_outbox_by_status(session) == {"done": 1, "dead": 1}
    found = find_outbox_by_key(session, idempotency_key="done")
    assert found is not None and (found.status, found.external_ref) == (OutboxStatus.DONE, "c-1")
    rearm_outbox(session, outbox_id=done, now=AT)
    assert list_due_outbox(session, now=AT) == [done]
