"""Each feed event stores its client-facing document when it is written; migration 0005 fills the
documents of events written before it, identically."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import insert, select, text

from service.store.db import build_engine
from service.store.orm import ClientRow, FeedEventRow
from service.store.schema import downgrade_schema, upgrade_schema

AT = datetime(2026, 11, 26, 9, 30, 15, 250, tzinfo=UTC)


def test_a_written_event_stores_its_document_as_the_feed_serves_it(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade_schema(engine)
        with engine.begin() as connection:
            client_id = connection.execute(
                insert(ClientRow).values(name="acme", created_at=AT).returning(ClientRow.id)
            ).scalar_one()
            connection.execute(
                insert(FeedEventRow),
                [
                    {
                        "client_id": client_id,
                        "project_id": None,
                        "kind": "risk_raised",
                        "dedupe_key": "k1",
                        "summary": 'Blocked: "checkout" ✓',
                        "payload": {"rule": "blocked", "n": [1, 2]},
                        "occurred_at": AT + timedelta(hours=2),
                        "created_at": AT,
                    }
                ],
            )
            document = connection.execute(select(FeedEventRow.document)).scalar_one()
    finally:
        engine.dispose()

    assert orjson.loads(document) == {
        "kind": "risk_raised",
        "project_id": None,
        "summary": 'Blocked: "checkout" ✓',
        "payload": {"rule": "blocked", "n": [1, 2]},
        "occurred_at": "2026-11-26T11:30:15.000250+00:00",
    }


def test_the_migration_fills_documents_of_existing_events_like_the_writer(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade_schema(engine)
        with engine.begin() as connection:
            client_id = connection.execute(
                insert(ClientRow).values(name="acme", created_at=AT).returning(ClientRow.id)
            ).scalar_one()
            connection.execute(
                insert(FeedEventRow),
                {
                    "client_id": client_id,
                    "project_id": None,
                    "kind": "item_done",
                    "dedupe_key": "k1",
                    "summary": 'Done: "quoted" \\ and ✓',
                    "payload": {"item": "ACM-1", "nested": {"a": None, "b": 1.5}},
                    "occurred_at": AT,
                    "created_at": AT,
                },
            )
            written = orjson.loads(connection.execute(select(FeedEventRow.document)).scalar_one())
        downgrade_schema(engine, revision="0004")
        upgrade_schema(engine)
        with engine.connect() as connection:
            migrated = orjson.loads(connection.execute(text("SELECT document FROM feed_events")).scalar_one())
    finally:
        engine.dispose()

    assert migrated == written
