"""Engines and sessions. Only entrypoints open a transaction with `transaction()`; nothing else commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.errors import DatabaseUnavailableError

# How long a SQLite writer waits for the lock before failing; WAL lets readers proceed meanwhile.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Page cache per connection, in KiB (SQLite's default is 2 MiB). A feed page reads ~50 rows spread
# over the events table; with the default cache each is a read from the OS, and a page costs about
# twice as much (bench/bench_feed.py). Memory is taken only as pages are read.
SQLITE_CACHE_KIB = 65_536


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN itself instead.
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _dump_json(value: Any) -> str:
    # orjson: the raw provider payload is the largest value written on the sync path.
    return orjson.dumps(value).decode()


# Execution option naming SQLite's BEGIN mode. A unit of work that writes takes the write lock up
# front (IMMEDIATE): a deferred transaction that reads and then writes fails at once with "database
# is locked" when another writer committed in between, without waiting on busy_timeout.
SQLITE_BEGIN_OPTION = "sqlite_begin"


def _begin_sqlite_transaction(connection: Any) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def build_engine(database_url: str, *, echo: bool = False) -> Engine:
    """An engine for SQLite (WAL, foreign keys on) or PostgreSQL (psycopg 3)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False},
            json_serializer=_dump_json,
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        json_serializer=_dump_json,
        json_deserializer=orjson.loads,
    )


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises.

    A database that cannot be reached becomes `DatabaseUnavailableError`, which the API answers with 503.
    """
    session = factory()
    try:
        if session.get_bind().dialect.name == "sqlite":
            session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        yield session
        session.commit()
    except OperationalError as exc:
        session.rollback()
        raise DatabaseUnavailableError("the database is unavailable") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
