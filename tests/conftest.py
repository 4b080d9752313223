"""Database fixtures over both dialects: the embedded SQLite and PostgreSQL; Hypothesis profiles.

Each pytest-xdist worker gets its own SQLite file and PostgreSQL schema; each test runs in a
transaction that is rolled back, so tests are isolated without rebuilding the schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.store.db import build_engine
from service.store.orm import Base

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POSTGRES_URL = os.environ.get("PMBRIDGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
IN_CI = os.environ.get("CI", "").lower() == "true"

# Under CI=true every Hypothesis test draws the same examples each run (derandomized, no example
# database): a red build reproduces and a green one is not luck. Elsewhere examples are random and
# the local example database replays a failure first. A test's own `settings(...)` bound its size
# and inherit the rest from the profile loaded here.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev")
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def _worker_id(request: pytest.FixtureRequest) -> str:
    worker: str = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return worker


def _postgres_reachable(url: str) -> str | None:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    finally:
        engine.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    problem = _postgres_reachable(POSTGRES_URL)
    if problem is not None:
        message = (
            f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string(hide_password=True)} is unreachable "
            f"({problem}); set PMBRIDGE_TEST_POSTGRES_URL or start the server"
        )
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {message}", pytrace=False)
        pytest.skip(message)
    return POSTGRES_URL


def make_postgres_schema_url(base_url: str, schema: str) -> str:
    """A URL whose connections use `schema` as search_path, so workers never see each other's tables."""
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_postgres_schema(base_url: str, schema: str) -> None:
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each dialect, for tests that manage the schema themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base = request.getfixturevalue("postgres_base_url")
    schema = f"pmb_{os.getpid()}_{request.node.name}"[:60].lower()
    schema = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in schema)
    url = make_postgres_schema_url(base, schema)
    yield url
    drop_postgres_schema(base, schema)


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = build_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'shared.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    base = request.getfixturevalue("postgres_base_url")
    # The pid keeps concurrent pytest runs on one server (two terminals, two checkouts) apart.
    schema = f"pmb_shared_{_worker_id(request)}_{os.getpid()}"
    engine = build_engine(make_postgres_schema_url(base, schema))
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    drop_postgres_schema(base, schema)


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database of each dialect, shared by the worker's tests: use `session` for isolation."""
    fixture = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    engine: Engine = request.getfixturevalue(fixture)
    return engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test; commits inside become savepoints."""
    with engine.connect() as connection:
        outer = connection.begin()
        db = Session(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
        )
        try:
            yield db
        finally:
            db.close()
            outer.rollback()
