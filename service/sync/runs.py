"""Running one sync of one source, recorded as a sync run whatever its outcome."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import httpx

from connectors.http import DEFAULT_TIMEOUT, CallAccounting, ConnectorError, PermanentError, RetryPolicy
from service.domain.enums import SourceKind, SyncRunKind, SyncRunStatus
from service.errors import ConfigurationError, ProviderDataError, ProviderUnavailableError, ServiceError
from service.logging import get_logger
from service.store.db import transaction
from service.store.runtime import Store
from service.store.sources import get_source, read_credentials
from service.store.sync_state import finish_sync_run, start_sync_run
from service.sync.clients import open_jira_client
from service.sync.jira import JiraSync
from service.sync.summary import SyncSummary

log = get_logger(__name__)

JIRA_KINDS = frozenset({SourceKind.JIRA_CLOUD, SourceKind.JIRA_DATA_CENTER})


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
) -> SyncSummary:
    """Sync one source now; the run is recorded even when it fails, and the failure re-raised.

    `transport`, `retry` and `timeout` reach the provider client (tests and benchmarks tune them).
    """
    kind = SyncRunKind.CENSUS if census else (SyncRunKind.FULL if full else SyncRunKind.INCREMENTAL)
    started = time.monotonic()
    with transaction(store.sessions) as session:
        source = get_source(session, source_id=source_id)
        credentials = read_credentials(session, cipher=store.cipher, source_id=source_id)
        run_id = start_sync_run(session, source_id=source_id, kind=kind, now=datetime.now(UTC))
    summary = SyncSummary(source_id=source_id, kind=kind.value, run_id=run_id)
    accounting = CallAccounting()
    log.info("sync.run.started", source_id=source_id, kind=kind.value, run_id=run_id)
    try:
        if source.kind not in JIRA_KINDS:
            raise ConfigurationError(f"sources of kind {source.kind.value} cannot be synced yet")
        with open_jira_client(
            source, credentials, accounting=accounting, transport=transport, retry=retry, timeout=timeout
        ) as client:
            sync = JiraSync(store, source=source, client=client, summary=summary, progress=progress)
            if census:
                sync.census()
            else:
                sync.run(full=full, reconcile_issue_ids=reconcile_issue_ids)
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
    return summary


def _as_service_error(exc: ConnectorError | ServiceError) -> ServiceError:
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, PermanentError):
        return ProviderDataError(f"the provider refused the sync: {exc}")
    return ProviderUnavailableError(f"the provider is unavailable: {exc}")
