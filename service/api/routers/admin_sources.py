"""Admin routes for sources (with a connection test, their webhooks and their removal), their projects
and sync runs.

Credentials and webhook secrets go in encrypted (Fernet) and never come back out. Base URLs are
checked against SSRF when stored and again, resolved, before every connection test.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from service.api.auth import Caller, require_admin
from service.api.routers.context import (
    MAX_ID,
    ObjectId,
    enqueuer_of,
    snapshots_of,
)
from service.api.schemas.admin import (
    ConnectionTestOut,
    ProjectAdminOut,
    SourceIn,
    SourceOut,
    SourceRemovalOut,
    SourceRemovedOut,
    SyncQueued,
    SyncRunOut,
    UntrackedCommentsOut,
    WebhooksRegisteredOut,
    WebhookStatusOut,
)
from service.api.schemas.common import ADMIN_ERRORS
from service.app_state import settings_of, store_of
from service.domain.enums import SourceKind
from service.domain.work import Source
from service.flags.removal import remove_source
from service.store.db import reading, transaction
from service.store.projects import list_projects
from service.store.source_removal import count_source_removal
from service.store.sources import (
    ensure_source_exists,
    get_source,
    list_sources,
    source_has_webhook_secret,
)
from service.store.sync_state import list_sync_runs
from service.sync.connection import NewSource, check_stored_connection, connect_source
from service.sync.trello_settings import ESTIMATE_FIELD_KEY, SPENT_FIELD_KEY
from service.sync.webhook_setup import read_webhook_status, register_source_webhooks

router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS)
Admin = Annotated[Caller, Depends(require_admin)]


def _source_out(source: Source, *, has_secret: bool) -> SourceOut:
    assert source.id is not None
    keys = source.settings.get("project_keys")
    spent, estimate = source.settings.get(SPENT_FIELD_KEY), source.settings.get(ESTIMATE_FIELD_KEY)
    return SourceOut(
        id=source.id,
        kind=source.kind,
        name=source.name,
        base_url=source.base_url,
        project_keys=[str(k) for k in keys] if isinstance(keys, list) else [],
        spent_field=spent if isinstance(spent, str) else None,
        estimate_field=estimate if isinstance(estimate, str) else None,
        has_webhook_secret=has_secret,
        last_synced_at=source.last_synced_at,
    )


@router.get("/sources", response_model=list[SourceOut], summary="List sources (never their credentials)")
def get_sources(request: Request, _admin: Admin) -> list[SourceOut]:
    with reading(store_of(request).sessions) as session:
        return [
            _source_out(s, has_secret=source_has_webhook_secret(session, source_id=s.id or 0))
            for s in list_sources(session)
        ]


@router.post("/sources", status_code=201, response_model=SourceOut, summary="Connect a source")
def post_source(request: Request, _admin: Admin, body: SourceIn) -> SourceOut:
    """Stores the source with its credentials encrypted; test it with `POST /admin/sources/{id}/test`."""
    secret = body.webhook_secret.get_secret_value() if body.webhook_secret else None
    new = NewSource(
        kind=SourceKind(body.kind),
        name=body.name,
        base_url=body.base_url,
        credentials=body.credentials(),
        webhook_secret=secret,
        project_keys=list(body.project_keys),
        provider_settings=body.provider_settings(),
    )
    allow_private = settings_of(request).allow_private_source_urls
    source = connect_source(store_of(request), new, allow_private=allow_private, now=datetime.now(UTC))
    return _source_out(source, has_secret=secret is not None)


@router.get("/sources/{source_id}", response_model=SourceOut, summary="One source")
def get_one_source(request: Request, _admin: Admin, source_id: ObjectId) -> SourceOut:
    with reading(store_of(request).sessions) as session:
        source = get_source(session, source_id=source_id)
        return _source_out(source, has_secret=source_has_webhook_secret(session, source_id=source_id))


@router.get(
    "/sources/{source_id}/removal",
    response_model=SourceRemovalOut,
    summary="What removing a source would delete",
)
def get_source_removal(request: Request, _admin: Admin, source_id: ObjectId) -> SourceRemovalOut:
    """Counts, by kind, what `DELETE /admin/sources/{id}` would delete now; deletes nothing."""
    with reading(store_of(request).sessions) as session:
        removal = count_source_removal(session, source_id=source_id)
    return SourceRemovalOut(**asdict(removal))


@router.delete("/sources/{source_id}", response_model=SourceRemovedOut, summary="Remove a source")
def delete_one_source(request: Request, _admin: Admin, source_id: ObjectId) -> SourceRemovedOut:
    """Removes the source with everything synced from it and every flag, commitment and scope on
    it, then edits the flag comments it had pushed to say the item is no longer tracked. A source
    that does not answer does not stop the removal: `comments` says what was not edited, and why.
    Feed events the clients still see stay as the record of what they were told, detached from the
    removed projects (docs/ARCHITECTURE.md, "Removing a source")."""
    removed = remove_source(store_of(request), source_id=source_id)
    snapshots_of(request).invalidate()
    return SourceRemovedOut(
        removed=SourceRemovalOut(**asdict(removed.removal)),
        comments=UntrackedCommentsOut(**asdict(removed.comments)),
    )


@router.post(
    "/sources/{source_id}/test", response_model=ConnectionTestOut, summary="Test a source's connection"
)
def post_connection_test(request: Request, _admin: Admin, source_id: ObjectId) -> ConnectionTestOut:
    """Calls the provider with the stored credentials; redirects are not followed."""
    result = check_stored_connection(
        store_of(request), source_id=source_id, allow_private=settings_of(request).allow_private_source_urls
    )
    return ConnectionTestOut(ok=result.ok, detail=result.detail)


@router.post(
    "/sources/{source_id}/sync",
    status_code=202,
    response_model=SyncQueued,
    summary="Queue a sync of a source",
)
def post_sync(request: Request, _admin: Admin, source_id: ObjectId) -> SyncQueued:
    with transaction(store_of(request).sessions) as session:
        ensure_source_exists(session, source_id=source_id)
    enqueuer_of(request).sync_source(source_id)
    return SyncQueued(source_id=source_id, status="queued")


@router.post(
    "/sources/{source_id}/webhooks",
    response_model=WebhooksRegisteredOut,
    summary="Register (or confirm) a Trello source's webhooks",
)
def post_webhooks(request: Request, _admin: Admin, source_id: ObjectId) -> WebhooksRegisteredOut:
    """As `pmbridge sources webhooks --source ID`: one webhook per board the source syncs, at
    `PMBRIDGE_PUBLIC_URL` (Trello probes it first, so the service must answer there). Without a
    public URL nothing is registered and `callback_url` is null. A Jira source answers 422: its
    webhooks are set up by its administrator; 400 when Trello refuses the credentials or a board."""
    report = register_source_webhooks(
        store_of(request), source_id=source_id, public_url=settings_of(request).public_url
    )
    return WebhooksRegisteredOut(
        id=report.source_id, webhooks=report.webhooks, callback_url=report.callback_url
    )


@router.get(
    "/sources/{source_id}/webhooks",
    response_model=WebhookStatusOut,
    summary="How a source's webhook deliveries stand",
)
def get_webhooks(request: Request, _admin: Admin, source_id: ObjectId) -> WebhookStatusOut:
    """When the last delivery was received, how many wait to be processed, how many are dead letters."""
    with reading(store_of(request).sessions) as session:
        status = read_webhook_status(session, source_id=source_id)
    return WebhookStatusOut(
        source_id=status.source_id,
        last_received_at=status.last_received_at,
        pending=status.pending,
        dead_letters=status.dead_letters,
    )


@router.get("/projects", response_model=list[ProjectAdminOut], summary="Projects synced from every source")
def get_projects(
    request: Request,
    _admin: Admin,
    source_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ProjectAdminOut]:
    with reading(store_of(request).sessions) as session:
        projects = list_projects(session, source_id=source_id, after_id=after, limit=limit)
    return [ProjectAdminOut(id=p.id or 0, source_id=p.source_id, key=p.key, name=p.name) for p in projects]


@router.get("/sync-runs", response_model=list[SyncRunOut], summary="Sync runs, newest first")
def get_sync_runs(
    request: Request,
    _admin: Admin,
    source_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only runs older than this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[SyncRunOut]:
    with reading(store_of(request).sessions) as session:
        runs = list_sync_runs(session, source_id=source_id, before_id=before, limit=limit)
    return [
        SyncRunOut(
            id=r.id,
            source_id=r.source_id,
            kind=r.kind,
            status=r.status,
            started_at=r.started_at,
            finished_at=r.finished_at,
            items_seen=r.items_seen,
            items_changed=r.items_changed,
            changes_added=r.changes_added,
            items_deleted=r.items_deleted,
            errors=list(r.errors),
        )
        for r in runs
    ]
