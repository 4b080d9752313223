"""Core INSERT … ON CONFLICT for SQLite and PostgreSQL (they spell it alike).

Core statements, not ORM bulk inserts: one prepared statement run with a parameter list is the fast
path on both databases (DESIGN §3).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
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
