"""Applying a stored Jira webhook delivery, idempotently and in any order.

An issue event is applied like a sync would apply the issue (a partial payload is read again from
Jira), with the changelog entry it carries keyed by its history id; a delete marks the issue
deleted; a version event upserts the milestone. A comment event (created, updated or deleted)
reads the issue's comments again and stores them as its complete set, so deliveries in any order
end where Jira is; the payload's comment is never kept. Other events carry nothing the model
tracks: they are acknowledged, not applied.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from connectors.http import CallAccounting, NotFoundError
from connectors.jira import parse_webhook
from connectors.jira.models import (
    JiraChangeHistory,
    JiraCommentEvent,
    JiraIssue,
    JiraIssueEvent,
    JiraVersionEvent,
    JiraWebhookEvent,
)
from service.domain.enums import InboxStatus, Visibility
from service.domain.work import Source
from service.logging import get_logger
from service.providers.jira import open_jira_client
from service.store.db import transaction
from service.store.items import mark_items_visibility, upsert_milestones
from service.store.projects import list_projects
from service.store.runtime import Store
from service.sync.applied import NOTHING_CHANGED, Applied
from service.sync.jira import JiraSync
from service.sync.jira_mapping import map_version
from service.sync.summary import SyncSummary

log = get_logger(__name__)


def apply_jira_delivery(
    store: Store,
    *,
    source: Source,
    credentials: dict[str, str],
    body: bytes,
    transport: httpx.BaseTransport | None = None,
) -> Applied:
    """Process one delivery body; a malformed one raises `InvalidPayloadError` (a dead letter)."""
    event = parse_webhook(body)
    if isinstance(event, JiraIssueEvent):
        return _apply_issue_event(
            store, source=source, credentials=credentials, event=event, transport=transport
        )
    if isinstance(event, JiraVersionEvent):
        return _apply_version_event(store, source=source, event=event)
    if isinstance(event, JiraCommentEvent):
        return _apply_comment_event(
            store, source=source, credentials=credentials, event=event, transport=transport
        )
    return _ignored(event)


def _ignored(event: JiraWebhookEvent) -> Applied:
    # Other events carry nothing the model tracks; they are acknowledged, not applied.
    log.info("webhook.event.ignored", webhook_event=getattr(event, "webhook_event", None))
    return Applied(InboxStatus.IGNORED)


def _apply_issue_event(
    store: Store,
    *,
    source: Source,
    credentials: dict[str, str],
    event: JiraIssueEvent,
    transport: httpx.BaseTransport | None,
) -> Applied:
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
        return Applied(InboxStatus.PROCESSED, changed)
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
) -> Applied:
    project = issue.fields.project
    if project is None or project.id not in in_scope:
        return Applied(InboxStatus.IGNORED)
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
        return Applied(InboxStatus.PROCESSED)
    project_id = in_scope[project.id]
    return Applied(InboxStatus.PROCESSED, None if project_id is None else frozenset({project_id}))


def _apply_comment_event(
    store: Store,
    *,
    source: Source,
    credentials: dict[str, str],
    event: JiraCommentEvent,
    transport: httpx.BaseTransport | None,
) -> Applied:
    """Comments of an issue in scope, read again whole: the payload names the comment, not the set."""
    assert source.id is not None
    project = event.issue.fields.project
    with store.sessions() as session:
        in_scope = {p.external_id: p.id for p in list_projects(session, source_id=source.id)}
    if project is None or project.id not in in_scope:
        return Applied(InboxStatus.IGNORED)
    summary = SyncSummary(source_id=source.id, kind="webhook")
    with open_jira_client(source, credentials, accounting=CallAccounting(), transport=transport) as client:
        sync = JiraSync(store, source=source, client=client, summary=summary)
        try:
            changed = sync.comments().apply_issue_comments(event.issue.id)
        except NotFoundError:
            # The issue is gone (a comment_deleted that follows an issue's deletion): its own
            # event marks it deleted.
            return Applied(InboxStatus.PROCESSED)
    if not changed:
        return Applied(InboxStatus.PROCESSED)
    project_id = in_scope[project.id]
    return Applied(InboxStatus.PROCESSED, None if project_id is None else frozenset({project_id}))


def _apply_version_event(store: Store, *, source: Source, event: JiraVersionEvent) -> Applied:
    assert source.id is not None
    version = event.version
    if event.action in ("deleted", "moved") or version.project_id is None:
        return Applied(InboxStatus.IGNORED)
    with transaction(store.sessions) as session:
        projects = {p.external_id: p.id for p in list_projects(session, source_id=source.id)}
        project_external_id = str(version.project_id)
        if project_external_id not in projects:
            return Applied(InboxStatus.IGNORED)
        upsert_milestones(
            session,
            source_id=source.id,
            milestones=[map_version(version, source_id=source.id, project_external_id=project_external_id)],
            observed_at=event.timestamp or datetime.now(UTC),
        )
    project_id = projects[project_external_id]
    return Applied(InboxStatus.PROCESSED, None if project_id is None else frozenset({project_id}))
