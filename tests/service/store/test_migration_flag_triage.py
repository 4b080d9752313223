"""Migration 0018: flags stored before it get their `raised` and `resolved` history from their own
dates, and a pushed comment counts from its last push; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.store.db import build_engine
from service.store.migrate import downgrade_schema, upgrade_schema
from service.store.orm import FlagHistoryRow, FlagRow

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_migration_0018_backfills_history_and_comment_dates_of_stored_flags(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade_schema(engine, revision="0017")
        with engine.begin() as connection:
            for values in (
                {"id": 1, "state": "open", "resolved": None, "comment": "c-1", "pushed": NOW},
                {"id": 2, "state": "resolved", "resolved": NOW, "comment": None, "pushed": None},
                {"id": 3, "state": "open", "resolved": None, "comment": None, "pushed": None},
            ):
                # Only the columns revision 0017 has, typed as the table types them.
                connection.execute(
                    insert(FlagRow.__table__).values(  # type: ignore[arg-type]
                        id=values["id"],
                        rule_id="r",
                        subject="item",
                        subject_id=values["id"],
                        severity="warning",
                        state=values["state"],
                        message="m",
                        evidence={},
                        fingerprint="fp",
                        first_seen_at=NOW - timedelta(days=1),
                        last_seen_at=NOW - timedelta(days=1),
                        resolved_at=values["resolved"],
                        published=False,
                        pushed_comment_id=values["comment"],
                        pushed_at=values["pushed"],
                    )
                )

        upgrade_schema(engine)

        with Session(engine) as session:
            history = [(h.flag_id, h.kind, h.at) for h in session.scalars(select(FlagHistoryRow))]
            flags = {f.id: (f.comment_created_at, f.triage) for f in session.scalars(select(FlagRow))}
        assert sorted(history) == [
            (1, "raised", NOW - timedelta(days=1)),
            (2, "raised", NOW - timedelta(days=1)),
            (2, "resolved", NOW),
            (3, "raised", NOW - timedelta(days=1)),
        ]
        assert flags == {1: (NOW, None), 2: (None, None), 3: (None, None)}
        downgrade_schema(engine, revision="0017")  # and back down
    finally:
        engine.dispose()
