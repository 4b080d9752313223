"""Accepting deliveries: look up the source's secret, store the delivery with one short write.

This is the hot path of webhook intake (docs/ARCHITECTURE.md, hot paths): each thread writes one
prepared INSERT on its own driver connection in autocommit, so concurrent requests never queue
behind a shared pool.

The intake routes run on the event loop and store through `store`, which commits together the
deliveries that arrive in one turn of the loop (group commit): every request waits for the commit
that holds its row, so nothing is acknowledged before it is durable, and a commit is paid once per
turn instead of once per delivery (bench/bench_webhooks.py). A batch that fails is retried a
delivery at a time, so one bad delivery fails alone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from service.caching import ExpiringCache
from service.domain.enums import SourceKind
from service.errors import DatabaseUnavailableError, NotFoundError
from service.store.db import OperationalError
from service.store.inbox import InboxDelivery, InboxInsert
from service.store.runtime import Store
from service.store.sources import find_source, read_webhook_secret
from service.store.thread_connections import ThreadConnections

SECRET_CACHE_TTL_S = 60.0
# The inbox's delivery_id column; Jira's identifiers are UUIDs and Trello's action ids 24 characters.
MAX_DELIVERY_ID_CHARS = 200


class DeliveryOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    outcome: DeliveryOutcome
    inbox_id: int | None


@dataclass(frozen=True, slots=True)
class SourceSecret:
    kind: SourceKind
    secret: str | None


class WebhookIntake:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._secrets: ExpiringCache[int, SourceSecret] = ExpiringCache(
            self._load_secret, ttl_s=SECRET_CACHE_TTL_S
        )
        self._connections = ThreadConnections(store.engine)
        self._insert = InboxInsert(store.engine.dialect)
        self._integrity_error: type[Exception] = store.engine.dialect.loaded_dbapi.IntegrityError
        # Deliveries waiting for the next group commit, and whether one is scheduled (loop thread only).
        self._waiting: list[tuple[InboxDelivery, asyncio.Future[int | None]]] = []
        self._commit_scheduled = False

    def source_secret(self, source_id: int) -> SourceSecret:
        """The source's kind and webhook secret, cached briefly; unknown sources raise NotFoundError."""
        return self._secrets.get(source_id)

    def _load_secret(self, source_id: int) -> SourceSecret:
        try:
            with self._store.sessions() as session:
                source = find_source(session, source_id=source_id)
                if source is None:
                    raise NotFoundError(f"source {source_id} not found", details={"source_id": source_id})
                secret = read_webhook_secret(session, cipher=self._store.cipher, source_id=source_id)
        except OperationalError as exc:
            raise DatabaseUnavailableError("the database is unavailable") from exc
        return SourceSecret(kind=source.kind, secret=secret)

    def store_delivery(
        self, *, source_id: int, delivery_id: str, event_type: str, body: bytes, received_at: datetime
    ) -> DeliveryReceipt:
        """Store a delivery durably (committed) before it is acknowledged; a repeat is a duplicate."""
        delivery = InboxDelivery(source_id, delivery_id, event_type[:100], body, received_at)
        return _receipt(self._insert_one(delivery))

    async def store(
        self, *, source_id: int, delivery_id: str, event_type: str, body: bytes, received_at: datetime
    ) -> DeliveryReceipt:
        """`store_delivery` for the event loop: committed with the deliveries of the same turn."""
        waiting: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(
            (InboxDelivery(source_id, delivery_id, event_type[:100], body, received_at), waiting)
        )
        if not self._commit_scheduled:
            self._commit_scheduled = True
            # Runs after every request the loop already has in hand has added its delivery.
            asyncio.get_running_loop().call_soon(self._commit_waiting)
        return _receipt(await waiting)

    def _commit_waiting(self) -> None:
        batch, self._waiting = self._waiting, []
        self._commit_scheduled = False
        if len(batch) > 1:
            try:
                ids = self._insert.insert_many(self._connections.get(), [d for d, _ in batch])
            except Exception:
                # Retried below a delivery at a time, so each request gets its own delivery's error.
                self._connections.drop()
            else:
                for (_, waiting), inbox_id in zip(batch, ids, strict=True):
                    if not waiting.done():
                        waiting.set_result(inbox_id)
                return
        for delivery, waiting in batch:
            try:
                inbox_id = self._insert_one(delivery)
            except Exception as exc:
                # Raised in the request that waits on it; a callback of the loop must not raise.
                if not waiting.done():
                    waiting.set_exception(exc)
            else:
                if not waiting.done():
                    waiting.set_result(inbox_id)

    def _insert_one(self, delivery: InboxDelivery) -> int | None:
        connection = self._connections.get()
        try:
            return self._insert.insert(connection, delivery)
        except self._integrity_error as exc:
            # The one constraint a new delivery can break is its source's foreign key: the source
            # was removed after its secret was cached. No retry can store it.
            self._secrets.invalidate(delivery.source_id)
            raise NotFoundError(
                f"source {delivery.source_id} not found", details={"source_id": delivery.source_id}
            ) from exc
        except self._connections.errors as exc:
            self._connections.drop()
            raise DatabaseUnavailableError("the database is unavailable") from exc

    def close(self) -> None:
        """Return every thread's connection (at shutdown, when no request is running)."""
        self._connections.close()


def _receipt(inbox_id: int | None) -> DeliveryReceipt:
    if inbox_id is None:
        return DeliveryReceipt(outcome=DeliveryOutcome.DUPLICATE, inbox_id=None)
    return DeliveryReceipt(outcome=DeliveryOutcome.ACCEPTED, inbox_id=inbox_id)
