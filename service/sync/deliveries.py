"""Processing a stored webhook delivery: map and apply it like a sync would, idempotently.

Duplicates, retries and out-of-order deliveries end in the same state as one ordered delivery:
items are written only when newer, changes are keyed by their changelog history id, and a delete
is a state, not an event.

`apply_delivery_now` also says which projects a delivery changed, so that what runs after it (rule
evaluation, push-back, feed events) can be limited to those projects instead of the whole source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from connectors.http import CallAccounting, ConnectorError, InvalidPayloadError, TransientError
from connectors.jira import parse_webhook
from connectors.jira.models import (
    JiraChangeHistory,
    JiraIssue,
    JiraIssueEvent,
    JiraVersionEvent,
    JiraWebhookEvent,
)
from service.domain.enums import InboxStatus, SourceKind, Visibility
from service.domain.work import Source
from service.logging import get_logger
from service.providers import open_jira_client
from service.store.db import transaction
from service.store.inbox import find_delivery, record_delivery_outcome
from service.store.items import mark_items_visibility, upsert_milestones
from service.store.projects import list_projects
from service.store.runtime import Store
from service.store.sources import get_source, read_credentials
from service.sync.jira import JiraSync
from service.sync.jira_mapping import map_version
from service.sync.runs import JIRA_KINDS
from service.sync.summary import SyncSummary
from service.sync.trello_deliveries import apply_trello_delivery

log = get_logger(__name__)

MAX_DELIVERY_ATTEMPTS = 5
NOTHING_CHANGED: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """A processed delivery: its row's new status, and the stored ids of the projects whose items or
    milestones it changed. `project_ids` is None when they are not known (a Trello delivery, a
    delete without its project): any project of `source_id` may have changed."""

    status: InboxStatus
    source_id: int | None
    project_ids: frozenset[int] | None


@dataclass(frozen=True, slots=True)
class _Applied:
    status: InboxStatus
    project_ids: frozenset[int] | None = NOTHING_CHANGED


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
        if row.status != InboxStatus.PENDING.value:
            return DeliveryResult(
                status=InboxStatus(row.status), source_id=row.source_id, project_ids=NOTHING_CHANGED
            )
        source = get_source(session, source_id=row.source_id)
        credentials = read_credentials(session, cipher=store.cipher, source_id=row.source_id)
        body, attempts = row.body, row.attempts
    try:
        applied = _apply(store, source=source, credentials=credentials, body=body, transport=transport)
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


def _apply(
    store: Store,
    *,
    source: Source,
    credentials: dict[str, str],
    body: bytes,
    transport: httpx.BaseTransport | None,
) -> _Applied:
    if source.kind is SourceKind.TRELLO:
        status = apply_trello_delivery(
            store, source=source, credentials=credentials, body=body, transport=transport
        )
        return _Applied(status, None if status is InboxStatus.PROCESSED else NOTHING_CHANGED)
    if source.kind not in JIRA_KINDS:
        raise InvalidPayloadError(f"deliveries for {source.kind.value} sources are not processed here")
    event = parse_webhook(body)
    if isinstance(event, JiraIssueEvent):
        return _apply_issue_event(
            store, source=source, credentials=credentials, event=event, transport=transport
        )
    if isinstance(event, JiraVersionEvent):
        return _apply_version_event(store, source=source, event=event)
    return _ignored(event)


def _ignored(event: JiraWebhookEvent) -> _Applied:
    # Comments and other events carry nothing the model tracks; they are acknowledged, not applied.
    log.info("webhook.event.ignored", webhook_event=getattr(event, "webhook_event", None))
    return _Applied(InboxStatus.IGNORED)


def _apply_issue_event(
    store: Store,
    *,
    source: Source,
    credentials: dict[str, str],
    event: JiraIssueEvent,
    transport: httpx.BaseTransport | None,
) -> _Applied:
    assert source.id is not None
    with store.sessions() as session:
        in_scope = {p.external_id: p.id for p in list_projects(session, source_id=source.id)}
    if event.action == "deleted":
        with transaction(store.sessions) as session:
            hidden = mark_items_visibility(
                session,
                source_id=source.id,
                external_ids=[event.issue.id],
                visibility=Visibility.DELETED,
                at=event.timestamp or datetime.now(UTC),
            )
        project = event.issue.fields.project
        project_id = in_scope.get(project.id) if project is not None else None
        changed = NOTHING_CHANGED if not hidden else None if project_id is None else frozenset({project_id})
        return _Applied(InboxStatus.PROCESSED, changed)
    summary = SyncSummary(source_id=source.id, kind="webhook")
    with open_jira_client(source, credentials, accounting=CallAccounting(), transport=transport) as client:
        sync = JiraSync(store, source=source, client=client, summary=summary)
        project = event.issue.fields.project
        if project is None or event.issue.fields.updated is None or event.issue.fields.created is None:
            # A partial payload: read the issue as a sync would (search fields, complete changelog).
            issue = client.get_issue(event.issue.id, fields=sync.search_fields)
            return _apply_issue(sync, summary, issue, in_scope=in_scope, changes_from=None)
        return _apply_issue(sync, summary, event.issue, in_scope=in_scope, changes_from=event)


def _apply_issue(
    sync: JiraSync,
    summary: SyncSummary,
    issue: JiraIssue,
    *,
    in_scope: dict[str, int | None],
    changes_from: JiraIssueEvent | None,
) -> _Applied:
    project = issue.fields.project
    if project is None or project.id not in in_scope:
        return _Applied(InboxStatus.IGNORED)
    if changes_from is None or changes_from.changelog is None or changes_from.changelog.id is None:
        sync.apply_issues([issue])
    else:
        history = JiraChangeHistory(
            id=changes_from.changelog.id,
            author=changes_from.user,
            created=changes_from.timestamp or datetime.now(UTC),
            items=changes_from.changelog.items,
        )
        sync.apply_issues([issue], histories={issue.id: [history]})
    # A stale or repeated delivery writes nothing: no project needs a second look because of it.
    if not summary.changed_item_ids and not summary.changes_added:
        return _Applied(InboxStatus.PROCESSED)
    project_id = in_scope[project.id]
    return _Applied(InboxStatus.PROCESSED, None if project_id is None else frozenset({project_id}))


def _apply_version_event(store: Store, *, source: Source, event: JiraVersionEvent) -> _Applied:
    assert source.id is not None
    version = event.version
    if event.action in ("deleted", "moved") or version.project_id is None:
        return _Applied(InboxStatus.IGNORED)
    with transaction(store.sessions) as session:
        projects = {p.external_id: p.id for p in list_projects(session, source_id=source.id)}
        project_external_id = str(version.project_id)
        if project_external_id not in projects:
            return _Applied(InboxStatus.IGNORED)
        upsert_milestones(
            session,
            source_id=source.id,
            milestones=[map_version(version, source_id=source.id, project_external_id=project_external_id)],
        )
    project_id = projects[project_external_id]
    return _Applied(InboxStatus.PROCESSED, None if project_id is None else frozenset({project_id}))
