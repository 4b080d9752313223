"""Reading the feed a page at a time, on the hot path.

Each thread keeps one connection and ends its read transaction after every page, so a reader
never holds a stale snapshot and never queues behind the pool (docs/ARCHITECTURE.md, hot paths).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection
from dataclasses import dataclass

from service.errors import DatabaseUnavailableError
from service.feed.cursor import FeedCursorCodec
from service.store.db import Connection, DBAPIError
from service.store.feed_queries import FeedEventRecord, FeedPageQuery, read_latest_events
from service.store.runtime import Store
from service.store.thread_connections import ThreadConnections

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class FeedPage:
    # The events as the JSON array served: no event becomes a Python object on the hot path.
    events_json: str
    # The cursor to ask for what comes after this page; the same cursor when the page is empty,
    # so a client polls with it until new events arrive.
    next_cursor: str | None
    has_more: bool


class FeedReader:
    def __init__(self, store: Store, codec: FeedCursorCodec) -> None:
        self._store = store
        self.codec = codec
        self._local = threading.local()
        self._opened: list[Connection] = []
        self._opened_lock = threading.Lock()
        self._query = FeedPageQuery(store.engine.dialect.name)
        self._pages = ThreadConnections(store.engine)

    def read(
        self, *, client_id: int, project_ids: Collection[int], after: str | None, limit: int
    ) -> FeedPage:
        after_id = 0 if after is None else self.codec.decode(client_id=client_id, cursor=after)
        connection = self._pages.get()
        try:
            page = self._query.read(
                connection,
                client_id=client_id,
                after_id=after_id,
                project_ids=project_ids,
                limit=limit,
            )
        except self._pages.errors as exc:
            self._pages.drop()
            raise DatabaseUnavailableError("the database is unavailable") from exc
        last_id = page.last_id or after_id
        next_cursor = self.codec.encode(client_id=client_id, event_id=last_id) if last_id else after
        return FeedPage(events_json=page.events_json, next_cursor=next_cursor, has_more=page.has_more)

    def latest(self, *, client_id: int, project_ids: Collection[int], limit: int) -> list[FeedEventRecord]:
        connection = self._connection()
        try:
            rows = read_latest_events(connection, client_id=client_id, project_ids=project_ids, limit=limit)
            connection.rollback()
        except DBAPIError as exc:
            self._drop_connection()
            raise DatabaseUnavailableError("the database is unavailable") from exc
        return rows

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            try:
                connection = self._store.engine.connect()
            except DBAPIError as exc:
                raise DatabaseUnavailableError("the database is unavailable") from exc
            self._local.connection = connection
            with self._opened_lock:
                self._opened.append(connection)
        return connection

    def close(self) -> None:
        """Close every thread's connection (at shutdown, when no request is running)."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            with contextlib.suppress(DBAPIError):
                connection.close()
        self._pages.close()

    def _drop_connection(self) -> None:
        connection: Connection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except DBAPIError:
                pass
