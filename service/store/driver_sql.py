"""Statements run on the driver's own cursor, for the bulk sync writes and hot reads.

SQLAlchemy's per-row parameter processing (type processors, one dict per row, compiled-statement
bookkeeping) cost more than the inserts themselves on the sync path, and compiling an `IN (…)` of a
thousand ids cost more than running it. These statements take values already in the driver's form
and run on the session's connection, inside its transaction, so they commit or roll back with
everything else the unit of work wrote. Values are stored exactly as SQLAlchemy stores them (its
SQLite datetime and date text, orjson for JSON), and read back as its column types convert them, so
ORM reads and SQL comparisons see no difference: how is decided once per dialect and column type
(`driver_dialect`), and which columns a row holds by the table (`driver_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.store.driver_dialect import DriverDialect, driver_dialect


def driver_values(dialect: str) -> DriverDialect:
    """The driver dialect of one dialect name (`sqlite`, `postgresql`): its placeholder, bound lists
    and conversions (see `driver_dialect`)."""
    return driver_dialect(dialect)


class DriverInsert:
    """`INSERT INTO table (columns) VALUES (…) [ON CONFLICT (keys) DO UPDATE SET … WHERE … | DO NOTHING]`.

    `columns` are names of the table's columns (by default every column but its generated id), in
    the order of the rows given to `run`. `where` is SQL over `{table}` and `excluded` columns, the
    same on both dialects. Values are placed as their column's type wants (`DriverDialect.value_mark`).
    """

    def __init__(
        self,
        dialect: DriverDialect | str,
        table: Table,
        columns: Sequence[str] | None = None,
        *,
        conflict: Sequence[str] = (),
        update: Sequence[str] = (),
        where: str | None = None,
    ) -> None:
        driver = driver_dialect(dialect) if isinstance(dialect, str) else dialect
        if columns is None:
            generated = table.autoincrement_column
            columns = [c.name for c in table.columns if c is not generated]
        named = [table.c[name] for name in columns]  # KeyError for a column the table lacks
        quote = driver.quote
        values = ", ".join(driver.value_mark(column) for column in named)
        # Only identifiers of the table definitions and the caller's fixed SQL are interpolated.
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in named)}) "  # noqa: S608
            f"VALUES ({values})"
        )
        if conflict:
            target = ", ".join(quote(table.c[name].name) for name in conflict)
            if update:
                assignments = ", ".join(
                    f"{quote(table.c[name].name)} = excluded.{quote(table.c[name].name)}" for name in update
                )
                sql += f" ON CONFLICT ({target}) DO UPDATE SET {assignments}"
                if where:
                    sql += f" WHERE {where}"
            else:
                sql += f" ON CONFLICT ({target}) DO NOTHING"
        self.sql = sql
        self.columns = tuple(columns)
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
