"""Webhook deliveries stored the way the intake stores them, and read back."""

from __future__ import annotations

from datetime import UTC, datetime

from service.store.db import transaction
from service.store.inbox import add_delivery
from service.store.orm import InboxRow
from service.store.runtime import Store


def store_body(store: Store, source_id: int, body: bytes, delivery_id: str) -> int:
    with transaction(store.sessions) as session:
        inbox_id = add_delivery(
            session,
            source_id=source_id,
            delivery_id=delivery_id,
            event_type="fixture",
            body=body,
            received_at=datetime.now(UTC),
        )
    assert inbox_id is not None
    return inbox_id


def inbox_row(store: Store, inbox_id: int) -> InboxRow:
    with store.sessions() as session:
        row = session.get(InboxRow, inbox_id)
        assert row is not None
        return row
