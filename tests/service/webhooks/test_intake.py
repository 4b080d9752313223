from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.domain.enums import SourceKind
from service.errors import DatabaseUnavailableError, NotFoundError
from service.store.db import build_engine
from service.store.inbox import InboxDelivery, InboxInsert, list_pending_deliveries
from service.store.orm import InboxRow
from service.store.runtime import Store
from service.store.thread_connections import ThreadConnections
from service.webhooks.intake import DeliveryOutcome, WebhookIntake
from tests.support.sources import add_test_source

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(dialect_store: Store) -> Store:
    return dialect_store


def test_store_delivery_twice_is_accepted_then_duplicate(store: Store) -> None:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret="s")
    intake = WebhookIntake(store)

    first = intake.store_delivery(
        source_id=source_id, delivery_id="d", event_type="e", body=b"{}", received_at=AT
    )
    second = intake.store_delivery(
        source_id=source_id, delivery_id="d", event_type="e", body=b"{}", received_at=AT
    )

    assert first.outcome is DeliveryOutcome.ACCEPTED and first.inbox_id is not None
    assert second.outcome is DeliveryOutcome.DUPLICATE and second.inbox_id is None


def test_source_secret_is_decrypted_and_unknown_source_raises(store: Store) -> None:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret="whsec")
    intake = WebhookIntake(store)

    assert intake.source_secret(source_id).secret == "whsec"
    with pytest.raises(NotFoundError):
        intake.source_secret(source_id + 100)


def test_store_delivery_database_down_raises_unavailable(store: Store) -> None:
    down = replace(
        store, engine=build_engine("postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2")
    )

    with pytest.raises(DatabaseUnavailableError):
        WebhookIntake(down).store_delivery(
            source_id=1, delivery_id="d", event_type="e", body=b"{}", received_at=AT
        )


def test_store_delivery_writes_the_same_row_as_the_orm(store: Store) -> None:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret="s")
    body = b'{"webhookEvent": "jira:issue_updated", "bytes": "\\u00e9"}'

    receipt = WebhookIntake(store).store_delivery(
        source_id=source_id, delivery_id="d-7", event_type="jira:issue_updated", body=body, received_at=AT
    )

    with store.sessions() as session:
        row = session.get(InboxRow, receipt.inbox_id)
        assert row is not None
        assert (row.source_id, row.delivery_id, row.event_type, row.body) == (
            source_id,
            "d-7",
            "jira:issue_updated",
            body,
        )
        assert (row.status, row.attempts, row.received_at) == ("pending", 0, AT)
        assert list_pending_deliveries(session, received_before=AT + timedelta(seconds=1), now=AT) == [row.id]


def test_store_delivery_is_committed_before_it_returns(store: Store) -> None:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret="s")
    intake = WebhookIntake(store)

    ids = [
        intake.store_delivery(
            source_id=source_id, delivery_id=f"d-{n}", event_type="e", body=b"{}", received_at=AT
        ).inbox_id
        for n in range(3)
    ]

    # Another connection sees every row at once: nothing waits in an open transaction.
    other = build_engine(store.engine.url.render_as_string(hide_password=False))
    try:
        with other.connect() as connection:
            seen = connection.execute(select(InboxRow.id).order_by(InboxRow.id)).scalars().all()
    finally:
        other.dispose()
    assert seen == ids
    intake.close()


async def _store_together(
    intake: WebhookIntake, source_ids_and_delivery_ids: list[tuple[int, str]]
) -> list[object]:
    """Deliveries stored from one turn of the event loop: one group commit."""
    return await asyncio.gather(
        *(
            intake.store(
                source_id=source_id, delivery_id=delivery_id, event_type="e", body=b"{}", received_at=AT
            )
            for source_id, delivery_id in source_ids_and_delivery_ids
        ),
        return_exceptions=True,
    )


def test_store_from_one_loop_turn_commits_the_deliveries_together(store: Store) -> None:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret="s")
    intake = WebhookIntake(store)

    receipts = asyncio.run(
        _store_together(
            intake, [(source_id, "d-1"), (source_id, "d-2"), (source_id, "d-1"), (source_id, "d-3")]
        )
    )

    assert [r.outcome for r in receipts] == [  # type: ignore[attr-defined]
        DeliveryOutcome.ACCEPTED,
        DeliveryOutcome.ACCEPTED,
        DeliveryOutcome.DUPLICATE,
        DeliveryOutcome.ACCEPTED,
    ]
    other = build_engine(store.engine.url.render_as_string(hide_password=False))
    try:
        with other.connect() as connection:
            stored = connection.execute(select(InboxRow.id, InboxRow.delivery_id).order_by(InboxRow.id)).all()
    finally:
        other.dispose()
    assert [(row.id, row.delivery_id) for row in stored] == [
        (receipts[n].inbox_id, f"d-{m}")  # type: ignore[attr-defined]
        for n, m in ((0, 1), (1, 2), (3, 3))
    ]
    intake.close()


def test_store_batch_with_a_delivery_of_a_removed_source_fails_that_delivery_alone_with_404(
    store: Store,
) -> None:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret="s")
    intake = WebhookIntake(store)

    # A source removed after its secret was cached: its delivery breaks the foreign key.
    outcomes = asyncio.run(
        _store_together(intake, [(source_id, "d-1"), (source_id + 100, "d-2"), (source_id, "d-3")])
    )

    assert isinstance(outcomes[1], NotFoundError)
    assert [o.outcome for o in (outcomes[0], outcomes[2])] == [DeliveryOutcome.ACCEPTED] * 2  # type: ignore[union-attr]
    with store.sessions() as session:
        assert session.scalars(select(InboxRow.delivery_id).order_by(InboxRow.id)).all() == ["d-1", "d-3"]
    intake.close()


def test_inbox_insert_many_commits_every_delivery_or_none(store: Store) -> None:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret="s")
    insert = InboxInsert(store.engine.dialect)
    connections = ThreadConnections(store.engine)
    good = InboxDelivery(source_id, "d-1", "e", b"{}", AT)
    try:
        with pytest.raises(connections.errors):
            insert.insert_many(connections.get(), [good, replace(good, source_id=source_id + 100)])
        ids = insert.insert_many(connections.get(), [good, replace(good, delivery_id="d-2"), good])
    finally:
        connections.close()

    with store.sessions() as session:
        stored = session.execute(select(InboxRow.id, InboxRow.delivery_id).order_by(InboxRow.id)).all()
    assert [(row.id, row.delivery_id) for row in stored] == [(ids[0], "d-1"), (ids[1], "d-2")]
    assert ids[2] is None
