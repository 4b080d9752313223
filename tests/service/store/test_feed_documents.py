"""Each feed event stores its client-facing document when it is written, its id first (a trigger
adds it once the row has one) and when it was recorded last; migrations 0005, 0007 and 0012 fill the
documents of events written before them, identically."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, insert, select, text

from service.store.migrate import downgrade_schema, upgrade_schema
from service.store.orm import ClientRow, FeedEventRow

AT = datetime(2026, 11, 26, 9, 30, 15, 250, tzinfo=UTC)


def write_event(migrated_engine: Engine, **event: Any) -> dict[str, Any]:
    """Write one event of a new client through a Core insert; returns its stored document, and
    checks it starts with its row's id."""
    with migrated_engine.begin() as connection:
        client_id = connection.execute(
            insert(ClientRow).values(name="acme", created_at=AT).returning(ClientRow.id)
        ).scalar_one()
        connection.execute(
            insert(FeedEventRow),
            [{"client_id": client_id, "project_id": None, "dedupe_key": "k1", "created_at": AT, **event}],
        )
        event_id, text_document = connection.execute(select(FeedEventRow.id, FeedEventRow.document)).one()
    assert text_document.startswith(f'{{"id":{event_id},"kind":')
    document: dict[str, Any] = orjson.loads(text_document)
    return document


def test_a_written_event_stores_its_document_as_the_feed_serves_it(migrated_engine: Engine) -> None:
    document = write_event(
        migrated_engine,
        kind="risk_raised",
        summary='Blocked: "checkout" ✓',
        payload={"rule": "blocked", "n": [1, 2]},
        occurred_at=AT + timedelta(hours=2),
    )

    assert document == {
        "id": document["id"],
        "kind": "risk_raised",
        "project_id": None,
        "summary": 'Blocked: "checkout" ✓',
        "payload": {"rule": "blocked", "n": [1, 2]},
        "occurred_at": "2026-11-26T11:30:15.000250+00:00",
        "recorded_at": "2026-11-26T09:30:15.000250+00:00",
    }


def test_the_migration_fills_documents_of_existing_events_like_the_writer(migrated_engine: Engine) -> None:
    written = write_event(
        migrated_engine,
        kind="item_done",
        summary='Done: "quoted" \\ and ✓',
        payload={"item": "ACM-1", "nested": {"a": None, "b": 1.5}},
        occurred_at=AT,
    )

    downgrade_schema(migrated_engine, revision="0004")
    upgrade_schema(migrated_engine)

    with migrated_engine.connect() as connection:
        migrated = connection.execute(text("SELECT document FROM feed_events")).scalar_one()
    assert migrated.startswith(f'{{"id":{written["id"]},')
    assert orjson.loads(migrated) == written


def test_ids_are_taken_out_and_put_back_by_migration_0007(migrated_engine: Engine) -> None:
    written = write_event(migrated_engine, kind="item_done", summary="Done", payload={}, occurred_at=AT)

    downgrade_schema(migrated_engine, revision="0006")
    with migrated_engine.connect() as connection:
        unstamped = orjson.loads(connection.execute(text("SELECT document FROM feed_events")).scalar_one())
    assert unstamped == {key: value for key, value in written.items() if key not in ("id", "recorded_at")}

    upgrade_schema(migrated_engine)
    with migrated_engine.connect() as connection:
        restamped = orjson.loads(connection.execute(text("SELECT document FROM feed_events")).scalar_one())
    assert restamped == written


def stored_document(migrated_engine: Engine) -> str:
    with migrated_engine.connect() as connection:
        document: str = connection.execute(text("SELECT document FROM feed_events")).scalar_one()
    return document


def test_recorded_at_is_taken_out_and_put_back_by_migration_0012_exactly(migrated_engine: Engine) -> None:
    """A payload naming "recorded_at" itself is left as it is: only the document's own key moves."""
    write_event(
        migrated_engine,
        kind="item_done",
        summary="Done",
        payload={"recorded_at": "in the payload"},
        occurred_at=AT - timedelta(days=3),
    )
    as_written = stored_document(migrated_engine)

    downgrade_schema(migrated_engine, revision="0011")
    before = orjson.loads(stored_document(migrated_engine))
    upgrade_schema(migrated_engine)

    assert "recorded_at" not in before
    assert before["payload"] == {"recorded_at": "in the payload"}
    assert stored_document(migrated_engine) == as_written
