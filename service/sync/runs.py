"""Running one sync of one source, recorded as a sync run whatever its outcome.

The lease, the run record and the metrics are handled here; talking to the provider is the
provider's part (`syncing_for(kind).sync`, service.sync.providers).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import httpx

from connectors.http import DEFAULT_TIMEOUT, CallAccounting, ConnectorError, PermanentError, RetryPolicy
from connectors.trello import TrelloRateLimiter
from service.domain.enums import SyncRunKind, SyncRunStatus
from service.errors import (
    ProviderDataError,
    ProviderUnavailableError,
    ServiceError,
    SyncInProgressError,
)
from service.logging import get_logger
from service.metrics import record_sync_run
from service.store.db import transaction
from service.store.leases import acquire_lease, release_lease, renew_lease
from service.store.runtime import Store
from service.store.sources import get_source, read_credentials
from service.store.sync_state import fail_abandoned_runs, finish_sync_run, start_sync_run
from service.sync.providers import SyncRequest, syncing_for
from service.sync.summary import SyncSummary

log = get_logger(__name__)

# A worker that dies frees the source after this long.
LEASE_TTL = timedelta(minutes=10)
# A sync renews its lease after a batch once this long has passed since it last did: far within
# LEASE_TTL, so a live run keeps its lease, without a write and a commit for every batch.
LEASE_RENEW_AFTER = timedelta(seconds=30)


def sync_source_now(
    store: Store,
    *,
    source_id: int,
    full: bool,
    census: bool = False,
    reconcile_issue_ids: Sequence[int] = (),
    progress: Callable[[int], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    trello_limiter: TrelloRateLimiter | None = None,
) -> SyncSummary:
    """Sync one source now; the run is recorded even when it fails, and the failure re-raised.

    `transport`, `retry`, `timeout` and `trello_limiter` reach the provider client (tests and
    benchmarks tune them). `reconcile_issue_ids` applies to Jira Cloud only.
    """
    kind = SyncRunKind.CENSUS if census else (SyncRunKind.FULL if full else SyncRunKind.INCREMENTAL)
    started = time.monotonic()
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with transaction(store.sessions) as session:
        source = get_source(session, source_id=source_id)
        if not acquire_lease(session, source_id=source_id, owner=owner, now=datetime.now(UTC), ttl=LEASE_TTL):
            raise SyncInProgressError(
                f"source {source_id} is being synced by another worker", details={"source_id": source_id}
            )
        # Holding the lease, no other run of this source is alive: any still `running` was abandoned.
        fail_abandoned_runs(session, source_id=source_id, now=datetime.now(UTC))
        credentials = read_credentials(session, cipher=store.cipher, source_id=source_id)
        run_id = start_sync_run(session, source_id=source_id, kind=kind, now=datetime.now(UTC))
    summary = SyncSummary(source_id=source_id, kind=kind.value, run_id=run_id)
    progress = _renewing(store, source_id=source_id, owner=owner, progress=progress)
    accounting = CallAccounting()
    log.info("sync.run.started", source_id=source_id, kind=kind.value, run_id=run_id)
    try:
        syncing_for(source.kind).sync(
            store,
            source=source,
            credentials=credentials,
            summary=summary,
            request=SyncRequest(
                full=full,
                census=census,
                reconcile_issue_ids=reconcile_issue_ids,
                progress=progress,
                accounting=accounting,
                transport=transport,
                retry=retry,
                timeout=timeout,
                trello_limiter=trello_limiter,
            ),
        )
        summary.status = SyncRunStatus.SUCCEEDED.value
    except (ConnectorError, ServiceError) as exc:
        summary.status = SyncRunStatus.FAILED.value
        summary.errors.append(str(exc))
        raise _as_service_error(exc) from exc
    finally:
        summary.duration_s = time.monotonic() - started
        summary.api_calls = dict(accounting.snapshot())
        with transaction(store.sessions) as session:
            finish_sync_run(
                session,
                run_id=run_id,
                status=SyncRunStatus(summary.status if summary.status != "running" else "failed"),
                now=datetime.now(UTC),
                items_seen=summary.items_seen,
                items_changed=summary.items_changed,
                changes_added=summary.changes_added,
                items_deleted=summary.items_deleted,
                api_calls=summary.api_calls,
                errors=summary.errors,
            )
            release_lease(session, source_id=source_id, owner=owner)
        log.info(
            "sync.run.finished",
            source_id=source_id,
            run_id=run_id,
            status=summary.status,
            items_seen=summary.items_seen,
            items_changed=summary.items_changed,
            api_calls=accounting.total,
            duration_s=round(summary.duration_s, 3),
        )
        record_sync_run(
            provider=source.kind.value,
            kind=kind.value,
            status=summary.status,
            seconds=summary.duration_s,
            api_calls=summary.api_calls.get("by_endpoint", {}),
        )
    return summary


def _renewing(
    store: Store, *, source_id: int, owner: str, progress: Callable[[int], None] | None
) -> Callable[[int], None]:
    """Progress that also renews the lease after applied batches (`LEASE_RENEW_AFTER`); a lost
    lease stops the run (another worker took over after it expired), and what was committed stays
    committed."""
    renewed = time.monotonic()

    def report(count: int) -> None:
        nonlocal renewed
        if time.monotonic() - renewed >= LEASE_RENEW_AFTER.total_seconds():
            with transaction(store.sessions) as session:
                held = renew_lease(
                    session, source_id=source_id, owner=owner, now=datetime.now(UTC), ttl=LEASE_TTL
                )
            if not held:
                raise SyncInProgressError(
                    f"the sync lease of source {source_id} expired and was taken over",
                    details={"source_id": source_id},
                )
            renewed = time.monotonic()
        if progress is not None:
            progress(count)

    return report


def _as_service_error(exc: ConnectorError | ServiceError) -> ServiceError:
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, PermanentError):
        return ProviderDataError(f"the provider refused the sync: {exc}")
    return ProviderUnavailableError(f"the provider is unavailable: {exc}")
