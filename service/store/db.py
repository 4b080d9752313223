"""Engines and sessions. Only entrypoints open a transaction with `transaction()`; nothing else commits.

The rest of the service names the session, the connection and the database's errors through this
module (`Session`, `Connection`, `SQLAlchemyError`, `DBAPIError`, `OperationalError`), never through
SQLAlchemy itself, which only the store imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.errors import DatabaseUnavailableError

__all__ = [
    "CommitBehind",
    "Connection",
    "DBAPIError",
    "Engine",
    "OperationalError",
    "SQLAlchemyError",
    "Session",
    "build_engine",
    "build_session_factory",
    "ping",
    "probe_writes",
    "reading",
    "transaction",
]

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


def ping(engine: Engine) -> None:
    """Run `SELECT 1` on a new connection; raises `SQLAlchemyError` when the database does not answer."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises.

    A database that cannot be reached becomes `DatabaseUnavailableError`, which the API answers with 503.
    """
    with _begun(factory) as session:
        yield session
    _commit(session)


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads: one consistent view, rolled back at the end.

    It takes no write lock (SQLite begins it DEFERRED), so a read never waits on a busy writer. A
    database that cannot be reached becomes `DatabaseUnavailableError`, as in `transaction`.
    """
    session = factory()
    try:
        yield session
    except BaseException as exc:
        session.rollback()
        session.close()
        _raise_unavailable(exc)
        raise
    session.rollback()
    session.close()


@contextmanager
def _begun(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session with its transaction begun; rolled back and closed when the block raises."""
    session = factory()
    try:
        if session.get_bind().dialect.name == "sqlite":
            session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        yield session
    except BaseException as exc:
        session.rollback()
        session.close()
        _raise_unavailable(exc)
        raise


def _commit(session: Session, *, driver_commit: Future[None] | None = None) -> None:
    """Commit and close `session` (once `driver_commit`, the driver's own commit, is done); roll back
    when either fails."""
    try:
        if driver_commit is not None:
            driver_commit.result()
        session.commit()
    except BaseException as exc:
        session.rollback()
        _raise_unavailable(exc)
        raise
    finally:
        session.close()


def _raise_unavailable(exc: BaseException) -> None:
    if isinstance(exc, OperationalError):
        raise DatabaseUnavailableError("the database is unavailable") from exc


class CommitBehind:
    """Units of work whose commits run in a background thread while the caller prepares the next.

    The database driver releases the interpreter lock while it commits (SQLite writes the
    transaction's pages to its log; PostgreSQL waits for the server), so a bulk sync maps its next
    batch meanwhile. Only the driver's commit runs in the background: SQLAlchemy's own bookkeeping
    would contend for the interpreter lock there. Once the driver has committed, the session's
    commit on the caller's thread finds no open transaction in the driver and only closes its books.

    Units stay in order: each begins only after the one before it has committed. Callbacks given to
    `after_commit` run on the caller's thread once the unit before them has committed, never for a
    unit that failed. Leaving the `with` block waits for the last commit; a commit's error is raised
    by the next `unit()`, `wait()` or the block's end.
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
        self._pending: tuple[Session, Future[None]] | None = None
        self._callbacks: list[Callable[[], None]] = []

    def __enter__(self) -> CommitBehind:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: TracebackType | None
    ) -> None:
        try:
            self.wait()
        finally:
            self._executor.shutdown(wait=True)

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """A unit of work like `transaction()`, committed in the background when the block succeeds."""
        self.wait()
        with _begun(self._factory) as session:
            yield session
            session.flush()
            connection = session.connection()
        self._pending = (session, self._executor.submit(_driver_commit, connection))

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the last unit has committed (at once when none is pending)."""
        if self._pending is None:
            callback()
        else:
            self._callbacks.append(callback)

    def wait(self) -> None:
        """Wait for the pending commit; run its callbacks, or raise its error."""
        pending, self._pending = self._pending, None
        callbacks, self._callbacks = self._callbacks, []
        if pending is None:
            return
        session, driver_commit = pending
        _commit(session, driver_commit=driver_commit)
        for callback in callbacks:
            callback()


def _driver_commit(connection: Connection) -> None:
    driver = connection.connection.dbapi_connection
    if driver is None:
        raise RuntimeError("a unit of work lost its database connection")
    dbapi = connection.dialect.loaded_dbapi
    try:
        driver.commit()
    except dbapi.Error as exc:
        # As SQLAlchemy raises it (OperationalError, …), so a database gone away reads as unavailable.
        raise DBAPIError.instance("COMMIT", None, exc, dbapi.Error) from exc


class _ProbeDone(Exception):
    """Rolls the write probe back once its write went through."""


def probe_writes(engine: Engine, *, timeout_s: float = 1.0) -> str | None:
    """None when the database takes a write within `timeout_s`; else why it does not (another
    writer holds SQLite's lock, a read-only file or replica, a full disk). The probe rewrites the
    schema version with itself and rolls back, so it changes nothing."""
    waited_ms = max(1, int(timeout_s * 1000))
    sqlite_db = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            try:
                with connection.begin():
                    if sqlite_db:
                        connection.exec_driver_sql(f"PRAGMA busy_timeout={waited_ms}")
                    else:
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{waited_ms}ms'")
                    connection.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
                    raise _ProbeDone
            except _ProbeDone:
                return None
            finally:
                if sqlite_db:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                    connection.rollback()
    except SQLAlchemyError as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        reason = (str(cause).splitlines() or [""])[0]
        return f"{type(exc).__name__}: {reason[:200]}"
