"""Core INSERT … ON CONFLICT for SQLite and PostgreSQL (they spell it alike).

Core statements, not ORM bulk inserts: one prepared statement run with a parameter list is the fast
path on both databases (docs/ARCHITECTURE.md, hot paths).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.store.base import Base


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def dialect_insert(dialect_name: str, model: type[Base]) -> sqlite.Insert | postgresql.Insert:
    if dialect_name == "postgresql":
        return postgresql.insert(table_of(model))
    return sqlite.insert(table_of(model))


def upsert_insert(session: Session, model: type[Base]) -> sqlite.Insert | postgresql.Insert:
    return dialect_insert(session.get_bind().dialect.name, model)


# PostgreSQL plans a bulk sync's lookups (`external_id IN (…)` of a source) from its statistics.
# Until autovacuum first analyzes a freshly filled table (up to a minute after the rows arrive) it
# believes the table tiny, filters every row of the source against the list, and each batch costs
# more than the one before: 2 s a batch at 25,000 items, a first sync of 100,000 issues by far
# the slowest part. The bulk writers call this so the statistics follow the table's growth.
_STATISTICS = text(
    "SELECT c.reltuples, s.n_mod_since_analyze FROM pg_class c "
    "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = CAST(:table AS regclass)"
)
ANALYZE_AFTER_ROWS = 1000


def analyze_if_outgrown(session: Session, model: type[Base]) -> bool:
    """On PostgreSQL, ANALYZE the table when more rows changed since its last analysis than it held
    then (and at least `ANALYZE_AFTER_ROWS`): the statistics follow a table that doubles. Returns
    whether it analyzed."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    table = table_of(model).name
    found = session.execute(_STATISTICS, {"table": table}).first()
    if found is None:
        return False
    held, changed = max(found[0], 0.0), found[1] or 0
    if changed < ANALYZE_AFTER_ROWS or changed <= held:
        return False
    # Only a table name of pmbridge's own metadata is interpolated.
    session.execute(text(f"ANALYZE {table}"))
    return True
