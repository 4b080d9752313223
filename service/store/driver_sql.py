"""Prepared INSERT … ON CONFLICT run with the driver's own `executemany`, for the bulk sync writes.

SQLAlchemy's per-row parameter processing (type processors, one dict per row, compiled-statement
bookkeeping) cost more than the inserts themselves on the sync path. These statements take tuples
already in the driver's form and run on the session's connection, inside its transaction, so they
commit or roll back with everything else the unit of work wrote. Values are stored exactly as
SQLAlchemy stores them (its SQLite datetime and date text, orjson for JSON), so ORM reads and SQL
comparisons see no difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Convert = Callable[[Any], Any]


def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME text of naive UTC: "YYYY-MM-DD HH:MM:SS.ffffff" (sortable as text).
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    text = value.isoformat(" ", "microseconds")
    if len(text) == _UTC_TEXT_LENGTH and text.endswith("+00:00"):
        return text[:-6]  # already UTC: one call instead of three
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


_UTC_TEXT_LENGTH = len("2026-01-01 00:00:00.000000+00:00")


def _postgres_datetime(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class DriverValues:
    """Converters from Python values to what the dialect's driver stores for pmbridge's column types."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"
        self.datetime: Callable[[datetime | None], Any] = (
            _postgres_datetime if self.postgres else _sqlite_datetime
        )
        self.date: Callable[[date | None], Any] = _identity if self.postgres else _sqlite_date
        self.json: Convert = _json


def _identity(value: Any) -> Any:
    return value


class DriverInsert:
    """`INSERT INTO table (columns) VALUES (…) [ON CONFLICT (keys) DO UPDATE SET … WHERE … | DO NOTHING]`.

    `where` is SQL over `{table}` and `excluded` columns, the same on both dialects. JSON columns are
    bound as text (cast to JSONB on PostgreSQL).
    """

    def __init__(
        self,
        dialect: str,
        table: str,
        columns: Sequence[str],
        *,
        conflict: Sequence[str] = (),
        update: Sequence[str] = (),
        where: str | None = None,
        json_columns: frozenset[str] = frozenset(),
    ) -> None:
        postgres = dialect == "postgresql"
        mark = "%s" if postgres else "?"
        values = ", ".join(
            f"CAST({mark} AS JSONB)" if postgres and column in json_columns else mark for column in columns
        )
        # Only identifiers fixed by the caller are interpolated, never a value.
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"  # noqa: S608
        if conflict:
            target = ", ".join(conflict)
            if update:
                assignments = ", ".join(f"{column} = excluded.{column}" for column in update)
                sql += f" ON CONFLICT ({target}) DO UPDATE SET {assignments}"
                if where:
                    sql += f" WHERE {where}"
            else:
                sql += f" ON CONFLICT ({target}) DO NOTHING"
        self.sql = sql
        self.width = len(columns)

    def run(self, session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run for every row on the session's connection, in its open transaction."""
        if not rows:
            return
        connection = session.connection()
        dbapi = connection.dialect.loaded_dbapi
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(self.sql, rows)
        except dbapi.Error as exc:
            # The same exception SQLAlchemy raises for a failed statement (OperationalError, …).
            raise DBAPIError.instance(self.sql, None, exc, dbapi.Error) from exc
        finally:
            cursor.close()
