"""An id once handed out is never handed out again, on both databases, for every table whose ids
leave the database: deleting the newest row and adding another gives a higher id."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    Engine,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    text,
)

from service.store.base import UTCDateTime
from service.store.db import build_engine
from service.store.migrate import upgrade_schema
from service.store.orm import Base
from tests.service.store.test_migrations import create_engine_with_orm_schema

# Ids in the API, in feed events' dedupe keys, in queued jobs, or as a flag's or commitment's subject.
LEAVE_THE_DATABASE = {
    "api_tokens",
    "client_scopes",
    "clients",
    "commitments",
    "event_subscriptions",
    "feed_events",
    "feedback",
    "flags",
    "milestones",
    "projects",
    "rule_runs",
    "sources",
    "sync_runs",
    "webhook_inbox",
    "work_items",
}
# Rows deleted one by one as the provider deletes them (Jira worklogs): their ids are never handed
# out twice either, so a row read before a delete is never taken for one added after it.
DELETED_ONE_BY_ONE = {"worklogs"}
NEVER_REUSED = LEAVE_THE_DATABASE | DELETED_ONE_BY_ONE
# Ids that only the store itself refers to: never served, queued or named in another row's text.
STAY_INSIDE = {
    "changes",
    "commitment_moves",
    "flag_history",
    "item_activity",
    "milestone_changes",
    "outbox",
    "persons",
    "sync_cursors",
}
AT = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def _tables_with_surrogate_ids() -> set[str]:
    return {
        table.name
        for table in Base.metadata.tables.values()
        if [column.name for column in table.primary_key.columns] == ["id"]
    }


def test_every_table_with_an_id_is_classified() -> None:
    assert _tables_with_surrogate_ids() == NEVER_REUSED | STAY_INSIDE


def test_tables_whose_ids_leave_the_database_never_reuse_them_on_sqlite() -> None:
    never_reused = {
        table.name
        for table in Base.metadata.tables.values()
        if table.dialect_options["sqlite"]["autoincrement"]
    }

    assert never_reused == NEVER_REUSED


def _autoincrement_tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        return {name for name, sql in rows if "AUTOINCREMENT" in (sql or "")}


def test_migrated_sqlite_schema_has_autoincrement_where_the_orm_does(tmp_path: Path) -> None:
    """SQLite only: PostgreSQL's sequences never go back (the test below holds both)."""
    migrated = build_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    created = create_engine_with_orm_schema(f"sqlite:///{tmp_path / 'created.db'}")
    try:
        upgrade_schema(migrated)
        assert _autoincrement_tables(migrated) == NEVER_REUSED == _autoincrement_tables(created)
    finally:
        migrated.dispose()
        created.dispose()


class _Rows:
    """Inserts one row of any table with plain values, adding the rows its foreign keys need."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.counter = itertools.count(1)

    def add(self, table: Table) -> int:
        values = {
            column.name: self._value(column)
            for column in table.columns
            if not (column.primary_key and column.name == "id")
        }
        return int(self.connection.execute(table.insert().values(values).returning(table.c.id)).scalar_one())

    def _value(self, column: Any) -> Any:
        foreign = next(iter(column.foreign_keys), None)
        if foreign is not None:
            return self.add(foreign.column.table)
        if column.nullable:
            return None
        kind = column.type
        if isinstance(kind, UTCDateTime):
            return AT
        if isinstance(kind, Boolean):
            return False
        if isinstance(kind, Integer):
            return 1
        if isinstance(kind, Float):
            return 0.5
        if isinstance(kind, Date):
            return date(2026, 12, 8)
        if isinstance(kind, LargeBinary):
            return b"bytes"
        if isinstance(kind, JSON):
            return {}
        if isinstance(kind, String):
            return f"v{next(self.counter)}"
        raise AssertionError(f"no value for {column.table.name}.{column.name} of type {kind!r}")


def test_deleting_the_newest_row_then_adding_one_gives_a_higher_id(migrated_engine: Engine) -> None:
    reused: dict[str, tuple[int, int]] = {}
    with migrated_engine.begin() as connection:
        rows = _Rows(connection)
        for name in sorted(NEVER_REUSED):
            table = Base.metadata.tables[name]
            rows.add(table)
            newest = rows.add(table)
            connection.execute(delete(table).where(table.c.id == newest))
            again = rows.add(table)
            if again <= newest:
                reused[name] = (newest, again)

    assert reused == {}, "table: (deleted id, id handed out next)"
