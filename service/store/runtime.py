"""Opening the store for an entrypoint: engine, schema check, session factory, credential cipher."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings
from service.store.crypto import CredentialCipher
from service.store.db import build_engine, build_session_factory
from service.store.schema import ensure_schema


@dataclass(frozen=True)
class Store:
    engine: Engine
    sessions: sessionmaker[Session]
    cipher: CredentialCipher

    def close(self) -> None:
        self.engine.dispose()


def prepare_schema(settings: Settings) -> None:
    """Bring the schema to this version's head once, before a process starts its API or its worker
    threads: the embedded SQLite upgrades itself (under the schema lock, so processes started together
    on one fresh data directory take turns); any other outdated database is refused."""
    engine = build_engine(settings.resolved_database_url)
    try:
        ensure_schema(engine, auto_upgrade=settings.is_embedded_sqlite)
    finally:
        engine.dispose()


def open_store(settings: Settings, *, check_schema: bool = True) -> Store:
    """Open the configured database. The embedded SQLite default upgrades itself on first use;
    any other database must be upgraded explicitly, and an outdated one is refused."""
    engine = build_engine(settings.resolved_database_url)
    if check_schema:
        ensure_schema(engine, auto_upgrade=settings.is_embedded_sqlite)
    return Store(
        engine=engine,
        sessions=build_session_factory(engine),
        cipher=CredentialCipher(settings.secret_keys),
    )
