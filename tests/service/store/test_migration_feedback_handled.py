"""Migration 0020: feedback stored before it stays, unhandled, and the columns go on downgrade; on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from service.store.db import build_engine
from service.store.migrate import downgrade_schema, upgrade_schema

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_migration_0020_keeps_stored_feedback_unhandled(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade_schema(engine, revision="0019")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO clients (id, name, created_at) VALUES (1, 'acme', :now)"), {"now": NOW}
            )
            connection.execute(
                text(
                    "INSERT INTO feedback (id, client_id, subject, rating, comment, created_at) "
                    "VALUES (1, 1, 'period', 3, 'fine', :now)"
                ),
                {"now": NOW},
            )

        upgrade_schema(engine, revision="0020")

        with engine.connect() as connection:
            row = connection.execute(text("SELECT rating, handled_at, handled_by FROM feedback")).one()
        assert tuple(row) == (3, None, None)
        downgrade_schema(engine, revision="0019")
        columns = {c["name"] for c in inspect(engine).get_columns("feedback")}
        assert "handled_at" not in columns and "comment" in columns
    finally:
        engine.dispose()
