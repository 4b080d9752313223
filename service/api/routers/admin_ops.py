"""Admin routes for flags (publish with client wording, or keep internal) and dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from service.api.auth import Caller, require_admin
from service.api.routers.context import MAX_ID, ObjectId, enqueuer_of
from service.api.schemas.admin import DeadLetterOut, FlagOut, PublishIn, RetryQueued
from service.api.schemas.common import ADMIN_ERRORS
from service.app_state import store_of
from service.domain.enums import FlagState
from service.domain.signals import Flag
from service.flags.publishing import keep_risk_internal, publish_risk
from service.logging import get_logger
from service.store.db import reading, transaction
from service.store.flags import list_flags
from service.store.inbox_admin import list_dead_letters, requeue_dead_letter

log = get_logger(__name__)
router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS)
Admin = Annotated[Caller, Depends(require_admin)]


def _flag_out(flag: Flag) -> FlagOut:
    assert flag.id is not None
    return FlagOut(
        id=flag.id,
        rule_id=flag.rule_id,
        subject=flag.subject,
        subject_id=flag.subject_id,
        severity=flag.severity,
        state=flag.state,
        message=flag.message,
        first_seen_at=flag.first_seen_at,
        last_seen_at=flag.last_seen_at,
        resolved_at=flag.resolved_at,
        published=flag.published,
        client_text=flag.client_text,
    )


@router.get("/flags", response_model=list[FlagOut], summary="List flags")
def get_flags(
    request: Request,
    _admin: Admin,
    state: FlagState | None = None,
    published: bool | None = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FlagOut]:
    with reading(store_of(request).sessions) as session:
        flags = list_flags(session, state=state, published=published, after_id=after, limit=limit)
    return [_flag_out(f) for f in flags]


@router.post("/flags/{flag_id}/publish", response_model=FlagOut, summary="Show a flag to clients")
def post_publish(request: Request, _admin: Admin, flag_id: ObjectId, body: PublishIn) -> FlagOut:
    """Clients who see the flag's subject read it as an open risk, in `client_text` only.

    Their feed (and so Atom and subscriptions) gets a `risk_raised` event in that wording when an
    open flag becomes visible or its wording changes; publishing again unchanged tells nothing.
    """
    with transaction(store_of(request).sessions) as session:
        flag = publish_risk(session, flag_id=flag_id, client_text=body.client_text, now=datetime.now(UTC))
    log.info("admin.flag.published", flag_id=flag_id)
    return _flag_out(flag)


@router.post("/flags/{flag_id}/keep-internal", response_model=FlagOut, summary="Hide a flag from clients")
def post_keep_internal(request: Request, _admin: Admin, flag_id: ObjectId) -> FlagOut:
    """Clients who were shown the open flag get a `risk_withdrawn` event in the wording they saw."""
    with transaction(store_of(request).sessions) as session:
        flag = keep_risk_internal(session, flag_id=flag_id, now=datetime.now(UTC))
    log.info("admin.flag.unpublished", flag_id=flag_id)
    return _flag_out(flag)


@router.get(
    "/dead-letters", response_model=list[DeadLetterOut], summary="Webhook deliveries that failed for good"
)
def get_dead_letters(
    request: Request,
    _admin: Admin,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeadLetterOut]:
    with reading(store_of(request).sessions) as session:
        letters = list_dead_letters(session, after_id=after, limit=limit)
    return [
        DeadLetterOut(
            id=d.id,
            source_id=d.source_id,
            delivery_id=d.delivery_id,
            event_type=d.event_type,
            received_at=d.received_at,
            attempts=d.attempts,
            last_error=d.last_error,
        )
        for d in letters
    ]


@router.post(
    "/dead-letters/{inbox_id}/retry",
    status_code=202,
    response_model=RetryQueued,
    summary="Process a dead letter again",
)
def post_retry(request: Request, _admin: Admin, inbox_id: ObjectId) -> RetryQueued:
    """Makes the delivery pending again and queues it; the sweep picks it up should the queue fail."""
    with transaction(store_of(request).sessions) as session:
        requeue_dead_letter(session, inbox_id=inbox_id)
    enqueuer_of(request).process_delivery(inbox_id)
    return RetryQueued(id=inbox_id, status="queued")
