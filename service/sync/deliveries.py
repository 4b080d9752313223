"""Processing a stored webhook delivery: map and apply it like a sync would, idempotently.

Duplicates, retries and out-of-order deliveries end in the same state as one ordered delivery:
items are written only when newer, changes are keyed by their changelog history id, and a delete
is a state, not an event.

`apply_delivery_now` also says which projects a delivery changed, so that what runs after it (rule
evaluation, push-back, feed events) can be limited to those projects instead of the whole source.
The row's attempts and outcome are handled here; parsing and applying the body is the provider's
part (`syncing_for(kind).apply_delivery`, service.sync.providers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from connectors.http import ConnectorError, InvalidPayloadError, TransientError
from service.domain.enums import InboxStatus
from service.domain.work import Source
from service.logging import get_logger
from service.store.db import transaction
from service.store.inbox import find_delivery, record_delivery_outcome
from service.store.runtime import Store
from service.store.sources import get_source, read_credentials
from service.sync.applied import NOTHING_CHANGED
from service.sync.providers import syncing_for

log = get_logger(__name__)

MAX_DELIVERY_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """A processed delivery: its row's new status, and the stored ids of the projects whose items or
    milestones it changed. `project_ids` is None when they are not known (a Trello delivery, a
    delete without its project): any project of `source_id` may have changed."""

    status: InboxStatus
    source_id: int | None
    project_ids: frozenset[int] | None


def process_delivery_now(
    store: Store, *, inbox_id: int, transport: httpx.BaseTransport | None = None
) -> InboxStatus:
    """Apply one inbox row; returns its new status (see `apply_delivery_now`)."""
    return apply_delivery_now(store, inbox_id=inbox_id, transport=transport).status


def apply_delivery_now(
    store: Store, *, inbox_id: int, transport: httpx.BaseTransport | None = None
) -> DeliveryResult:
    """Apply one inbox row; returns its new status and the projects it changed. A transient failure
    is re-raised (the job retries) until the attempts run out and the row becomes a dead letter."""
    with store.sessions() as session:
        row = find_delivery(session, inbox_id=inbox_id)
        if row is None:
            return DeliveryResult(status=InboxStatus.DEAD, source_id=None, project_ids=NOTHING_CHANGED)
        if row.status is not InboxStatus.PENDING:
            return DeliveryResult(status=row.status, source_id=row.source_id, project_ids=NOTHING_CHANGED)
        source = get_source(session, source_id=row.source_id)
        credentials = read_credentials(session, cipher=store.cipher, source_id=row.source_id)
        body, attempts = row.body, row.attempts
    try:
        applied = syncing_for(source.kind).apply_delivery(
            store, source=source, credentials=credentials, body=body, transport=transport
        )
    except InvalidPayloadError as exc:
        return _unchanged(source, _record(store, inbox_id, InboxStatus.DEAD, error=str(exc)))
    except (ConnectorError, OSError) as exc:
        final = attempts + 1 >= MAX_DELIVERY_ATTEMPTS or not isinstance(exc, TransientError | OSError)
        _record(store, inbox_id, InboxStatus.DEAD if final else InboxStatus.PENDING, error=str(exc))
        if final:
            return _unchanged(source, InboxStatus.DEAD)
        raise
    except Exception as exc:
        # Anything else (a value the database refuses, a bug) is an attempt too, recorded with its
        # error and retried after a backoff; a delivery that keeps failing becomes a dead letter
        # instead of being re-triggered forever. Only a database that cannot record it re-raises
        # from here, and the delivery then stays as it was.
        final = attempts + 1 >= MAX_DELIVERY_ATTEMPTS
        error = f"{type(exc).__name__}: {exc}"
        _record(store, inbox_id, InboxStatus.DEAD if final else InboxStatus.PENDING, error=error)
        if final:
            return _unchanged(source, InboxStatus.DEAD)
        raise
    status = _record(store, inbox_id, applied.status)
    return DeliveryResult(status=status, source_id=source.id, project_ids=applied.project_ids)


def _unchanged(source: Source, status: InboxStatus) -> DeliveryResult:
    return DeliveryResult(status=status, source_id=source.id, project_ids=NOTHING_CHANGED)


def _record(store: Store, inbox_id: int, status: InboxStatus, *, error: str | None = None) -> InboxStatus:
    with transaction(store.sessions) as session:
        record_delivery_outcome(session, inbox_id=inbox_id, status=status, now=datetime.now(UTC), error=error)
    log.info("webhook.delivery.processed", inbox_id=inbox_id, status=status.value, error=error is not None)
    return status
