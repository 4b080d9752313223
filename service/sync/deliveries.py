"""Processing a stored webhook delivery: map and apply it like a sync would, idempotently.

Duplicates, retries and out-of-order deliveries end in the same state as one ordered delivery:
items are written only when newer, changes are keyed by their changelog history id, and a delete
is a state, not an event.
"""

from __future__ import annotations

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
from service.store.runtime import Store
from service.store.sources import get_source, read_credentials
from service.store.work_reads import list_projects
from service.sync.jira import JiraSync
from service.sync.jira_mapping import map_version
from service.sync.runs import JIRA_KINDS
from service.sync.summary import SyncSummary
from service.sync.trello_deliveries import apply_trello_delivery

log = get_logger(__name__)

MAX_DELIVERY_ATTEMPTS = 5


def process_delivery_now(
    store: Store, *, inbox_id: int, transport: httpx.BaseTransport | None = None
) -> InboxStatus:
    """Apply one inbox row; returns its new status. A transient failure is re-raised (the job
    retries) until the attempts run out and the row becomes a dead letter."""
    with store.sessions() as session:
        row = find_delivery(session, inbox_id=inbox_id)
        if row is None or row.status != InboxStatus.PENDING.value:
            return InboxStatus(row.status) if row is not None else InboxStatus.DEAD
        source = get_source(session, source_id=row.source_id)
        credentials = read_credentials(session, cipher=store.cipher, source_id=row.source_id)
        body, attempts = row.body, row.attempts
    try:
        status = _apply(store, source=source, credentials=credentials, body=body, transport=transport)
    except InvalidPayloadError as exc:
        return _record(store, inbox_id, InboxStatus.DEAD, error=str(exc))
    except (ConnectorError, OSError) as exc:
        final = attempts + 1 >= MAX_DELIVERY_ATTEMPTS or not isinstance(exc, TransientError | OSError)
        _record(store, inbox_id, InboxStatus.DEAD if final else InboxStatus.PENDING, error=str(exc))
        if final:
            return InboxStatus.DEAD
        raise
    return _record(store, inbox_id, status)


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
) -> InboxStatus:
    if source.kind is SourceKind.TRELLO:
        return apply_trello_delivery(
            store, source=source, credentials=credentials, body=body, transport=transport
        )
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


def _ignored(event: JiraWebhookEvent) -> InboxStatus:
    # Comments and other events carry nothing the model tracks; they are acknowledged, not applied.
    log.info("webhook.event.ignored", webhook_event=getattr(event, "webhook_event", None))
    return InboxStatus.IGNORED


def _apply_issue_event(
    store: Store,
    *,
    source: Source,
    credentials: dict[str, str],
    event: JiraIssueEvent,
    transport: httpx.BaseTransport | None,
) -> InboxStatus:
    assert source.id is not None
    if event.action == "deleted":
        with transaction(store.sessions) as session:
            mark_items_visibility(
                session,
                source_id=source.id,
                external_ids=[event.issue.id],
                visibility=Visibility.DELETED,
                at=event.timestamp or datetime.now(UTC),
            )
        return InboxStatus.PROCESSED
    with store.sessions() as session:
        in_scope = {p.external_id for p in list_projects(session, source_id=source.id)}
    summary = SyncSummary(source_id=source.id, kind="webhook")
    with open_jira_client(source, credentials, accounting=CallAccounting(), transport=transport) as client:
        sync = JiraSync(store, source=source, client=client, summary=summary)
        project = event.issue.fields.project
        if project is None or event.issue.fields.updated is None or event.issue.fields.created is None:
            # A partial payload: read the issue as a sync would (search fields, complete changelog).
            issue = client.get_issue(event.issue.id, fields=sync.search_fields)
            return _apply_issue(sync, issue, in_scope=in_scope, changes_from=None)
        return _apply_issue(sync, event.issue, in_scope=in_scope, changes_from=event)


def _apply_issue(
    sync: JiraSync, issue: JiraIssue, *, in_scope: set[str], changes_from: JiraIssueEvent | None
) -> InboxStatus:
    project = issue.fields.project
    if project is None or project.id not in in_scope:
        return InboxStatus.IGNORED
    if changes_from is None or changes_from.changelog is None or changes_from.changelog.id is None:
        sync.apply_issues([issue])
        return InboxStatus.PROCESSED
    history = JiraChangeHistory(
        id=changes_from.changelog.id,
        author=changes_from.user,
        created=changes_from.timestamp or datetime.now(UTC),
        items=changes_from.changelog.items,
    )
    sync.apply_issues([issue], histories={issue.id: [history]})
    return InboxStatus.PROCESSED


def _apply_version_event(store: Store, *, source: Source, event: JiraVersionEvent) -> InboxStatus:
    assert source.id is not None
    version = event.version
    if event.action in ("deleted", "moved") or version.project_id is None:
        return InboxStatus.IGNORED
    with transaction(store.sessions) as session:
        projects = {p.external_id for p in list_projects(session, source_id=source.id)}
        project_external_id = str(version.project_id)
        if project_external_id not in projects:
            return InboxStatus.IGNORED
        upsert_milestones(
            session,
            source_id=source.id,
            milestones=[map_version(version, source_id=source.id, project_external_id=project_external_id)],
        )
    return InboxStatus.PROCESSED
