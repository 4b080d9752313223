"""`inbox_admin.list_webhook_delivery_statuses`: each source's last delivery, pending and dead
counts in one grouped read; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from service.store.inbox_admin import WebhookDeliveryStatus, list_webhook_delivery_statuses
from service.store.orm import InboxRow

RECEIVED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def test_list_webhook_delivery_statuses_counts_by_status_per_source(session: Session, source_id: int) -> None:
    for n, (status, minutes) in enumerate([("processed", 20), ("pending", 5), ("dead", 1), ("ignored", 0)]):
        session.add(
            InboxRow(
                source_id=source_id,
                delivery_id=f"d-{n}",
                event_type="jira:issue_updated",
                body=b"{}",
                received_at=RECEIVED + timedelta(minutes=minutes),
                status=status,
            )
        )
    session.flush()

    statuses = list_webhook_delivery_statuses(session, source_ids=[source_id, source_id + 1000])

    assert statuses == {
        source_id: WebhookDeliveryStatus(
            source_id=source_id, last_received_at=RECEIVED + timedelta(minutes=20), pending=1, dead_letters=1
        ),
        source_id + 1000: WebhookDeliveryStatus(
            source_id=source_id + 1000, last_received_at=None, pending=0, dead_letters=0
        ),
    }
