"""Statements run on the driver's own cursor, for the bulk sync writes and hot reads.

SQLAlchemy's per-row parameter processing (type processors, one dict per row, compiled-statement
bookkeeping) cost more than the inserts themselves on the sync path, and compiling an `IN (…)` of a
thousand ids cost more than running it. These statements take values already in the driver's form
and run on the session's connection, inside its transaction, so they commit or roll back with
everything else the unit of work wrote. Values are stored exactly as SQLAlchemy stores them (its
SQLite datetime and date text, orjson for JSON), and read back as its column types convert them, so
ORM reads and SQL comparisons see no difference.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

import orjson
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Convert = Callable[[Any], Any]


def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME text of naive UTC: "YYYY-MM-DD HH:MM:SS.ffffff" (sortable as text).
    if value is None:
        return None
    zone = value.tzinfo
    if zone is UTC:
        return value.isoformat(" ", "microseconds")[:-6]  # already UTC: drop "+00:00"
    if zone is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


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


def datetime_from_sqlite(value: str | None) -> datetime | None:
    # SQLAlchemy's SQLite DATETIME (`datetime.fromisoformat`), then `UTCDateTime.process_result_value`.
    # Stored text is naive UTC: parsed with the offset appended, it comes out aware in `UTC` at once
    # (`replace(tzinfo=…)` costs several times the parse). Text that carries an offset of its own
    # fails that parse, and date-only text parses naive: both take the general path.
    if value is None:
        return None
    try:
        fast = datetime.fromisoformat(value + "+00:00")
    except ValueError:
        fast = None
    if fast is not None and fast.tzinfo is UTC:
        return fast
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def datetime_from_postgres(value: datetime | None) -> datetime | None:
    # timestamptz arrives aware in the session's zone: `UTCDateTime.process_result_value`.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DriverValues:
    """Converters between Python values and what the dialect's driver stores for pmbridge's column
    types, and the dialect's spelling of a bound list."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"
        self.mark = "%s" if self.postgres else "?"
        self.datetime: Callable[[datetime | None], Any] = (
            _postgres_datetime if self.postgres else _sqlite_datetime
        )
        self.read_datetime: Callable[[Any], datetime | None] = (
            datetime_from_postgres if self.postgres else datetime_from_sqlite
        )
        self.date: Callable[[date | None], Any] = _identity if self.postgres else _sqlite_date
        self.json: Convert = _json

    def member_of(self, column: str) -> str:
        """SQL testing `column` (an identifier fixed by the caller) against one bound list of values
        (`members`), of any length."""
        if self.postgres:
            return f"{column} = ANY({self.mark})"
        return f"{column} IN (SELECT value FROM json_each({self.mark}))"  # noqa: S608

    def members(self, values: Collection[str] | Collection[int]) -> Any:
        """The bound list for `member_of`: an array on PostgreSQL, a JSON array on SQLite."""
        return list(values) if self.postgres else _json(list(values))


@functools.cache
def driver_values(dialect: str) -> DriverValues:
    """The converters of one dialect (`sqlite`, `postgresql`), built once."""
    return DriverValues(dialect)


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


def fetch_rows(session: Session, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of one statement on the session's connection, in its transaction.

    Pending ORM changes are flushed first when the session autoflushes, as an ORM query would.
    """
    if session.autoflush:
        session.flush()
    connection = session.connection()
    dbapi = connection.dialect.loaded_dbapi
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        rows = cast(list[tuple[Any, ...]], cursor.fetchall())
    except dbapi.Error as exc:
        # The same exception SQLAlchemy raises for a failed statement (OperationalError, …).
        raise DBAPIError.instance(sql, params, exc, dbapi.Error) from exc
    finally:
        cursor.close()
    return rows
