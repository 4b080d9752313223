"""Schema changes through Alembic: upgrade, downgrade, and the head revision the migrations define.

Every upgrade and downgrade runs under the schema lock: a process-wide mutex, because Alembic keeps
the running migration's context in module globals (two threads migrating at once fail with
`KeyError: 'script'`), and a lock between processes, because `pmbridge serve` and `pmbridge worker`
started together on one fresh database would both create the tables. Between processes that is a
file lock beside a SQLite database and a transaction-scoped advisory lock on PostgreSQL. Whoever
waited finds the schema already at the revision asked for, and Alembic then does nothing.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# pg_advisory_xact_lock's key: any constant that no other lock of pmbridge's uses ("pmbr").
SCHEMA_ADVISORY_LOCK_KEY = 0x706D6272

_process_schema_lock = threading.Lock()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    # configparser interpolates "%": URL-encoded query strings must be escaped.
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def sqlite_lock_path(engine: Engine) -> Path | None:
    """The file a SQLite database's schema lock is taken on; None for an in-memory database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".schema-lock")


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # flock belongs to the open file description, so it also excludes another thread's open().
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the schema lock, released at its commit or rollback.

    On SQLite the transaction runs with foreign keys off, as SQLite's procedure for rebuilding a
    table asks (sqlite.org/lang_altertable.html#otheralter): dropping a table that others refer to
    would otherwise run its ON DELETE actions on them. Before the commit every reference is checked.
    """
    with _process_schema_lock, _file_lock(sqlite_lock_path(engine)), engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _set_sqlite_foreign_keys(connection, enabled=False)
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_ADVISORY_LOCK_KEY}
                    )
                yield connection
                if sqlite:
                    _check_sqlite_foreign_keys(connection)
        finally:
            if sqlite:
                _set_sqlite_foreign_keys(connection, enabled=True)


def _set_sqlite_foreign_keys(connection: Connection, *, enabled: bool) -> None:
    # The pragma is a no-op inside a transaction: it goes to the driver between transactions.
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")  # type: ignore[union-attr]


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchmany(5)
    if broken:
        found = ", ".join(f"{table} row {rowid} -> {parent}" for table, rowid, parent, _fk in broken)
        raise RuntimeError(f"the migration left rows referring to rows that do not exist: {found}")


def upgrade_schema(engine: Engine, *, revision: str = "head") -> None:
    config = alembic_config(engine)
    with _migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade_schema(engine: Engine, *, revision: str) -> None:
    config = alembic_config(engine)
    with _migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def get_head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head
