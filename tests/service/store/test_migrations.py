"""Alembic: one head; upgrade, downgrade and upgrade again; no drift between the ORM and the migrations."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from service.errors import SchemaOutdatedError
from service.store.db import build_engine
from service.store.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    downgrade_schema,
    get_head_revision,
    upgrade_schema,
)
from service.store.orm import DIALECT_ONLY_INDEXES, Base, applies_to
from service.store.schema import SCHEMA_HEAD, ensure_schema, find_current_revision


def test_migrations_have_one_head() -> None:
    engine = build_engine("sqlite://")
    assert len(ScriptDirectory.from_config(alembic_config(engine)).get_heads()) == 1


def test_schema_head_is_the_head_the_migrations_define() -> None:
    assert get_head_revision(build_engine("sqlite://")) == SCHEMA_HEAD, "a new migration bumps SCHEMA_HEAD"


def test_migration_file_names_are_date_prefixed() -> None:
    names = [p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names
    assert all(name[:8].isdigit() and name[8] == "_" for name in names)


def test_upgrade_downgrade_upgrade_round_trip(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade_schema(engine)
        assert find_current_revision(engine) == get_head_revision(engine)
        downgrade_schema(engine, revision="base")
        assert find_current_revision(engine) is None
        upgrade_schema(engine)
        assert find_current_revision(engine) == get_head_revision(engine)
    finally:
        engine.dispose()


def test_ensure_schema_from_threads_at_once_upgrades_once(database_url: str) -> None:
    engines = [build_engine(database_url) for _ in range(3)]
    start = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def upgrade(engine: Engine) -> None:
        start.wait()
        try:
            ensure_schema(engine, auto_upgrade=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade, args=(engine,)) for engine in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert find_current_revision(engines[0]) == get_head_revision(engines[0])
    finally:
        for engine in engines:
            engine.dispose()


UPGRADE_IN_A_PROCESS = """
import sys
from service.store.db import build_engine
from service.store.migrate import upgrade_schema
engine = build_engine(sys.argv[1])
upgrade_schema(engine)
engine.dispose()
"""


def test_upgrade_schema_from_processes_at_once_upgrades_once(database_url: str) -> None:
    processes = [
        subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", UPGRADE_IN_A_PROCESS, database_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120)[0].decode(errors="replace") for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    engine = build_engine(database_url)
    try:
        assert find_current_revision(engine) == get_head_revision(engine)
    finally:
        engine.dispose()


def test_migrations_match_the_orm(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade_schema(engine)
        with engine.connect() as connection:
            opts = {"compare_type": True, "include_object": applies_to(connection.dialect.name)}
            context = MigrationContext.configure(connection, opts=opts)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_dialect_only_indexes_exist_on_their_dialect_alone(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade_schema(engine)
        migrated = {index["name"] for index in inspect(engine).get_indexes("feed_events")}
        dialect = engine.dialect.name
    finally:
        engine.dispose()
    created = create_engine_with_orm_schema(database_url)
    try:
        from_orm = {index["name"] for index in inspect(created).get_indexes("feed_events")}
    finally:
        created.dispose()
    for name, owner in DIALECT_ONLY_INDEXES.items():
        assert (name in migrated) == (owner == dialect), name
        assert (name in from_orm) == (owner == dialect), name


def create_engine_with_orm_schema(database_url: str) -> Engine:
    """The schema as the ORM's metadata creates it, in a fresh database of the same dialect."""
    engine = build_engine(database_url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        Base.metadata.create_all(connection)
    return engine


def test_ensure_schema_outdated_without_auto_upgrade_names_the_command(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        with pytest.raises(SchemaOutdatedError, match="pmbridge db upgrade"):
            ensure_schema(engine, auto_upgrade=False)
    finally:
        engine.dispose()


def test_ensure_schema_with_auto_upgrade_creates_the_schema(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        ensure_schema(engine, auto_upgrade=True)
        assert find_current_revision(engine) == get_head_revision(engine)
    finally:
        engine.dispose()
