"""One driver connection per thread, in autocommit, for the hot paths (webhook intake, feed pages).

A statement on its own connection never queues behind the pool and never holds a transaction open
between requests: each statement commits (a write) or reads a fresh snapshot (a read) on its own
(docs/ARCHITECTURE.md, hot paths). A connection that failed is dropped, and the next call opens a new one.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.exc import DBAPIError

from service.errors import DatabaseUnavailableError


class ThreadConnections:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._opened: list[PoolProxiedConnection] = []
        self._opened_lock = threading.Lock()
        # What a failed statement raises: the driver's own errors, or SQLAlchemy's wrapping of them.
        self.errors: tuple[type[Exception], ...] = (engine.dialect.loaded_dbapi.Error, DBAPIError)

    def get(self) -> Any:
        """This thread's driver connection (SQLite's is in autocommit by the engine's setup)."""
        raw: PoolProxiedConnection | None = getattr(self._local, "raw", None)
        if raw is None or not raw.is_valid:
            try:
                raw = self._engine.raw_connection()
                # Dedicated to this thread, and left in autocommit: it must never go back to the
                # pool, where a unit of work would get a connection without transactions.
                raw.detach()
                if self._engine.dialect.name == "postgresql":
                    raw.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            except self.errors as exc:
                raise DatabaseUnavailableError("the database is unavailable") from exc
            self._local.raw = raw
            with self._opened_lock:
                self._opened.append(raw)
        return raw.dbapi_connection  # both drivers are synchronous: the driver's own connection

    def drop(self) -> None:
        """Forget this thread's connection after a failure: the next `get` opens a new one."""
        raw: PoolProxiedConnection | None = getattr(self._local, "raw", None)
        self._local.raw = None
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.invalidate()

    def close(self) -> None:
        """Return every thread's connection (at shutdown, when no request is running)."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for raw in opened:
            with contextlib.suppress(Exception):
                raw.close()
