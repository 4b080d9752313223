"""Syncing a source and applying its stored deliveries, one object per provider family.

The sync layer's part of the provider registry (`service.providers`): `syncing_for(kind)` picks the
family's entry of `SYNCING` through `provider_for(kind).family`, so `runs` and `deliveries` hold
the provider-neutral parts (the lease, the run record, the delivery's attempts) and never compare
kinds. Jira Cloud and Data Center share `JiraSyncing`; the site decides what differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

import httpx

from connectors.http import CallAccounting, RetryPolicy
from connectors.trello import TrelloRateLimiter
from service.domain.enums import InboxStatus, SourceKind
from service.domain.work import Source
from service.providers import ProviderFamily, provider_for
from service.providers.jira import open_jira_client
from service.providers.trello import open_trello_client
from service.store.runtime import Store
from service.sync.applied import NOTHING_CHANGED, Applied
from service.sync.jira import JiraSync
from service.sync.jira_deliveries import apply_jira_delivery
from service.sync.summary import SyncSummary
from service.sync.trello import TrelloSync
from service.sync.trello_deliveries import apply_trello_delivery


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncRequest:
    """One run's mode and client settings. `reconcile_issue_ids` applies to Jira Cloud only,
    `trello_limiter` to Trello only."""

    full: bool
    census: bool
    reconcile_issue_ids: Sequence[int]
    progress: Callable[[int], None] | None
    accounting: CallAccounting
    transport: httpx.BaseTransport | None
    retry: RetryPolicy | None
    timeout: httpx.Timeout
    trello_limiter: TrelloRateLimiter | None


class SourceSyncing(Protocol):
    def sync(
        self,
        store: Store,
        *,
        source: Source,
        credentials: dict[str, str],
        summary: SyncSummary,
        request: SyncRequest,
    ) -> None:
        """Run one sync (or census) of the source into `summary`; provider errors propagate."""

    def apply_delivery(
        self,
        store: Store,
        *,
        source: Source,
        credentials: dict[str, str],
        body: bytes,
        transport: httpx.BaseTransport | None,
    ) -> Applied:
        """Apply one stored delivery body; a malformed one raises `InvalidPayloadError`."""


class JiraSyncing:
    def sync(
        self,
        store: Store,
        *,
        source: Source,
        credentials: dict[str, str],
        summary: SyncSummary,
        request: SyncRequest,
    ) -> None:
        with open_jira_client(
            source,
            credentials,
            accounting=request.accounting,
            transport=request.transport,
            retry=request.retry,
            timeout=request.timeout,
        ) as client:
            sync = JiraSync(store, source=source, client=client, summary=summary, progress=request.progress)
            if request.census:
                sync.census()
            else:
                sync.run(full=request.full, reconcile_issue_ids=request.reconcile_issue_ids)

    def apply_delivery(
        self,
        store: Store,
        *,
        source: Source,
        credentials: dict[str, str],
        body: bytes,
        transport: httpx.BaseTransport | None,
    ) -> Applied:
        return apply_jira_delivery(
            store, source=source, credentials=credentials, body=body, transport=transport
        )


class TrelloSyncing:
    def sync(
        self,
        store: Store,
        *,
        source: Source,
        credentials: dict[str, str],
        summary: SyncSummary,
        request: SyncRequest,
    ) -> None:
        with open_trello_client(
            source,
            credentials,
            accounting=request.accounting,
            transport=request.transport,
            retry=request.retry,
            timeout=request.timeout,
            limiter=request.trello_limiter,
        ) as trello:
            sync = TrelloSync(store, source=source, client=trello, summary=summary, progress=request.progress)
            if request.census:
                sync.census()
            else:
                sync.run(full=request.full)

    def apply_delivery(
        self,
        store: Store,
        *,
        source: Source,
        credentials: dict[str, str],
        body: bytes,
        transport: httpx.BaseTransport | None,
    ) -> Applied:
        status = apply_trello_delivery(
            store, source=source, credentials=credentials, body=body, transport=transport
        )
        # A card action names no project the delivery could be limited to: any of the source's may
        # have changed.
        return Applied(status, None if status is InboxStatus.PROCESSED else NOTHING_CHANGED)


SYNCING: Mapping[ProviderFamily, SourceSyncing] = MappingProxyType(
    {ProviderFamily.JIRA: JiraSyncing(), ProviderFamily.TRELLO: TrelloSyncing()}
)


def syncing_for(kind: SourceKind) -> SourceSyncing:
    return SYNCING[provider_for(kind).family]
