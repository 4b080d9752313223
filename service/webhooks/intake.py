"""Accepting deliveries: look up the source's secret, store the delivery with one short write.

This is the hot path of webhook intake (DESIGN §3): each thread writes one prepared INSERT on its
own driver connection in autocommit, so concurrent requests never queue behind a shared pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import OperationalError

from service.caching import ExpiringCache
from service.domain.enums import SourceKind
from service.errors import DatabaseUnavailableError, NotFoundError
from service.store.inbox import InboxInsert
from service.store.runtime import Store
from service.store.sources import find_source, read_webhook_secret
from service.store.thread_connections import ThreadConnections

SECRET_CACHE_TTL_S = 60.0


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
        connection = self._connections.get()
        try:
            inbox_id = self._insert.insert(
                connection,
                source_id=source_id,
                delivery_id=delivery_id,
                event_type=event_type[:100],
                body=body,
                received_at=received_at,
            )
        except self._connections.errors as exc:
            self._connections.drop()
            raise DatabaseUnavailableError("the database is unavailable") from exc
        if inbox_id is None:
            return DeliveryReceipt(outcome=DeliveryOutcome.DUPLICATE, inbox_id=None)
        return DeliveryReceipt(outcome=DeliveryOutcome.ACCEPTED, inbox_id=inbox_id)

    def close(self) -> None:
        """Return every thread's connection (at shutdown, when no request is running)."""
        self._connections.close()
