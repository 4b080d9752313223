"""One database's spelling and value conversions for the statements run on the driver's own cursor.

The fast paths (`driver_sql`, `driver_rows`, and the modules built on them) bypass SQLAlchemy's
parameter and result processing, so they must store and read values exactly as SQLAlchemy's column
types do: SQLite's DATETIME text of naive UTC and ISO date text, JSON text (orjson, as the engine
serializes it), SQLite's 0/1 booleans; PostgreSQL's driver adapts dates, booleans and JSONB itself,
and timestamptz only needs the zone pinned to UTC. A `DriverDialect` is everything that differs
between the two: the placeholder, how a value of each column type goes to the driver and comes back,
how a bound list and a typed bound value are spelled. A column's conversion follows from its type in
the table definitions (`column_kind`), so a statement never spells it column by column.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Boolean, Column, Date, Dialect, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import JSON

from service.domain.work import JsonText
from service.store.base import UTCDateTime

Convert = Callable[[Any], Any]


class ColumnKind(enum.Enum):
    """What a column's type means for its value on the driver: converted on the way in, out, or not."""

    PLAIN = "plain"
    DATETIME = "datetime"  # UTCDateTime
    DATE = "date"
    JSON = "json"
    BOOLEAN = "boolean"


def column_kind(column: Column[Any]) -> ColumnKind:
    """The kind of a table column, from its type (a variant's base type decides)."""
    type_ = column.type
    if isinstance(type_, UTCDateTime):
        return ColumnKind.DATETIME
    if isinstance(type_, JSON):
        return ColumnKind.JSON
    if isinstance(type_, Date):
        return ColumnKind.DATE
    if isinstance(type_, Boolean):
        return ColumnKind.BOOLEAN
    return ColumnKind.PLAIN


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


def json_text(value: Any) -> str:
    """JSON text of a value, as the engine's serializer writes it; a `JsonText` is that text already."""
    if type(value) is JsonText:
        return str(value)
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


def _date_from_sqlite(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _json_from_sqlite(value: str | None) -> Any:
    return None if value is None else orjson.loads(value)


def _boolean_from_sqlite(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _identity(value: Any) -> Any:
    return value


class DriverDialect:
    """The spelling and conversions of one dialect (`sqlite`, `postgresql`) on its driver's cursor.

    Conversions are typed loosely, as the ORM's columns are: NOT NULL columns never give None.
    """

    def __init__(self, name: str) -> None:
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"no driver-level statements for dialect {name!r}")
        self.name = name
        self.postgres = postgres = name == "postgresql"
        self.sqlalchemy: Dialect = (
            postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
            if postgres
            else sqlite.pysqlite.dialect()
        )
        # The driver's placeholder for one positional value (psycopg's "format", sqlite3's "qmark").
        self.mark = "%s" if postgres else "?"
        # Python value -> what the driver stores, by column kind.
        self.datetime: Callable[[datetime | None], Any] = _postgres_datetime if postgres else _sqlite_datetime
        self.date: Callable[[date | None], Any] = _identity if postgres else _sqlite_date
        self.json: Convert = json_text
        # What the driver returns -> the Python value the column type gives, by column kind.
        self.read_datetime: Callable[[Any], datetime | None] = (
            datetime_from_postgres if postgres else datetime_from_sqlite
        )
        self.read_date: Convert = _identity if postgres else _date_from_sqlite
        self.read_json: Convert = _identity if postgres else _json_from_sqlite
        self.read_boolean: Convert = _identity if postgres else _boolean_from_sqlite
        self._to_driver: dict[ColumnKind, Convert | None] = {
            ColumnKind.PLAIN: None,
            ColumnKind.BOOLEAN: None,  # both drivers bind a bool as the column type stores it
            ColumnKind.DATETIME: self.datetime,
            ColumnKind.DATE: None if postgres else self.date,
            ColumnKind.JSON: self.json,
        }
        self._from_driver: dict[ColumnKind, Convert | None] = {
            ColumnKind.PLAIN: None,
            ColumnKind.DATETIME: self.read_datetime,
            ColumnKind.DATE: None if postgres else self.read_date,
            ColumnKind.JSON: None if postgres else self.read_json,
            ColumnKind.BOOLEAN: None if postgres else self.read_boolean,
        }

    def to_driver(self, column: Column[Any]) -> Convert | None:
        """How a Python value of `column` is bound, or None when the driver takes it as it is."""
        return self._to_driver[column_kind(column)]

    def from_driver(self, column: Column[Any]) -> Convert | None:
        """How the driver's value of `column` becomes the column type's value, or None when it already is."""
        return self._from_driver[column_kind(column)]

    def value_mark(self, column: Column[Any]) -> str:
        """The placeholder of an INSERT's value for `column`: JSON is bound as text, cast to JSONB on
        PostgreSQL."""
        if self.postgres and column_kind(column) is ColumnKind.JSON:
            return f"CAST({self.mark} AS JSONB)"
        return self.mark

    def typed_mark(self, column: Column[Any]) -> str:
        """The placeholder of a value compared with `column`, typed as SQLAlchemy binds it (psycopg's
        `%s::BIGINT`, `%s::VARCHAR`, …), so the database plans the statement as it planned the ORM's."""
        compiled = str(bindparam("value", type_=column.type).compile(dialect=self.sqlalchemy))
        return compiled.replace("%(value)s", self.mark)

    def quote(self, identifier: str) -> str:
        """An identifier as SQLAlchemy spells it on this dialect (`"key"` on SQLite)."""
        quoted: str = self.sqlalchemy.identifier_preparer.quote(identifier)
        return quoted

    def member_of(self, column: str) -> str:
        """SQL testing `column` (an identifier fixed by the caller) against one bound list of values
        (`members`), of any length."""
        if self.postgres:
            return f"{column} = ANY({self.mark})"
        return f"{column} IN (SELECT value FROM json_each({self.mark}))"  # noqa: S608

    def members(self, values: Collection[str] | Collection[int]) -> Any:
        """The bound list for `member_of`: an array on PostgreSQL, a JSON array on SQLite."""
        return list(values) if self.postgres else orjson.dumps(list(values)).decode()


@functools.cache
def driver_dialect(name: str) -> DriverDialect:
    """The driver dialect of one dialect name (`sqlite`, `postgresql`), built once."""
    return DriverDialect(name)
