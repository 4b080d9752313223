"""Admin routes for flags (list, publish with client wording or keep internal, acknowledge, snooze,
dismiss, history), projects' push-back settings, and dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from service.api.auth import Caller, require_admin
from service.api.routers.context import MAX_ID, ObjectId, enqueuer_of
from service.api.schemas.admin import (
    DeadLetterOut,
    DismissIn,
    FlagHistoryOut,
    FlagOut,
    PublishIn,
    PushEnableIn,
    PushSettingsOut,
    RetryQueued,
    SnoozeIn,
)
from service.api.schemas.common import ADMIN_ERRORS
from service.app_state import store_of
from service.domain.enums import FlagListState, Severity
from service.domain.signals import Flag
from service.flags.listing import FlagFilter, ListedFlag, list_flags_for_operator
from service.flags.publishing import keep_risk_internal, publish_risk
from service.flags.push_policy import PushPolicy
from service.flags.push_queue import disable_push, enable_push, read_push_policy, read_push_statuses
from service.flags.triage import acknowledge, dismiss, snooze
from service.logging import get_logger
from service.store.db import Session, reading, transaction
from service.store.flags import list_flag_history, list_subject_keys
from service.store.inbox_admin import list_dead_letters, requeue_dead_letter

log = get_logger(__name__)
router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS)
Admin = Annotated[Caller, Depends(require_admin)]


def _by(admin: Caller) -> str:
    return f"token:{admin.token_id}"


def _one_out(session: Session, flag: Flag, *, now: datetime) -> FlagOut:
    assert flag.id is not None
    key = list_subject_keys(session, flags=[flag])[flag.id]
    status = read_push_statuses(session, flags=[flag], now=now)[flag.id]
    return _flag_out(ListedFlag(flag=flag, subject_key=key, push=status), now=now)


def _flag_out(listed: ListedFlag, *, now: datetime) -> FlagOut:
    flag = listed.flag
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
        subject_key=listed.subject_key,
        fingerprint=flag.fingerprint,
        triage=flag.triage_at(now),
        triage_reason=flag.triage_reason,
        triaged_by=flag.triaged_by,
        triaged_at=flag.triaged_at,
        snoozed_until=flag.snoozed_until,
        dismissed_fingerprint=flag.dismissed_fingerprint,
        push_state=listed.push.state,
        push_waiting_reason=listed.push.reason,
    )


Filter = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/flags", response_model=list[FlagOut], summary="List flags")
def get_flags(
    request: Request,
    _admin: Admin,
    state: FlagListState | None = None,
    published: bool | None = None,
    client: Filter = None,
    project: Filter = None,
    rule: Filter = None,
    severity: Severity | None = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FlagOut]:
    """Flags by id. `state`: `open` (open, neither snoozed nor dismissed; acknowledged ones count),
    `resolved`, `acknowledged`, `snoozed`, `dismissed`; none lists every flag. `client`: a client's
    name (the flags of the projects its scopes grant); `project`: a project key; an unknown client
    or project answers 404. Each flag says where its comment stands (`push_state`) and, while it
    waits, why (`push_waiting_reason`)."""
    now = datetime.now(UTC)
    filters = FlagFilter(
        client=client, project=project, rule=rule, severity=severity, state=state, published=published
    )
    with reading(store_of(request).sessions) as session:
        listed = list_flags_for_operator(session, filters=filters, now=now, after_id=after, limit=limit)
    return [_flag_out(f, now=now) for f in listed]


@router.post("/flags/{flag_id}/publish", response_model=FlagOut, summary="Show a flag to clients")
def post_publish(request: Request, admin: Admin, flag_id: ObjectId, body: PublishIn) -> FlagOut:
    """Clients who see the flag's subject read it as an open risk, in `client_text` only.

    Their feed (and so Atom and subscriptions) gets a `risk_raised` event in that wording when an
    open flag becomes visible or its wording changes; publishing again unchanged tells nothing.
    """
    now = datetime.now(UTC)
    with transaction(store_of(request).sessions) as session:
        flag = publish_risk(session, flag_id=flag_id, client_text=body.client_text, now=now, by=_by(admin))
        out = _one_out(session, flag, now=now)
    log.info("admin.flag.published", flag_id=flag_id)
    return out


@router.post("/flags/{flag_id}/unpublish", response_model=FlagOut, summary="Hide a flag from clients")
def post_unpublish(request: Request, admin: Admin, flag_id: ObjectId) -> FlagOut:
    """Clients who were shown the open flag get a `risk_withdrawn` event in the wording they saw (as
    `pmbridge flags unpublish`; `/keep-internal` is the same route under its first name)."""
    return _unpublished(request, admin, flag_id)


@router.post("/flags/{flag_id}/keep-internal", response_model=FlagOut, summary="Hide a flag from clients")
def post_keep_internal(request: Request, admin: Admin, flag_id: ObjectId) -> FlagOut:
    """Clients who were shown the open flag get a `risk_withdrawn` event in the wording they saw."""
    return _unpublished(request, admin, flag_id)


def _unpublished(request: Request, admin: Admin, flag_id: int) -> FlagOut:
    now = datetime.now(UTC)
    with transaction(store_of(request).sessions) as session:
        flag = keep_risk_internal(session, flag_id=flag_id, now=now, by=_by(admin))
        out = _one_out(session, flag, now=now)
    log.info("admin.flag.unpublished", flag_id=flag_id)
    return out


@router.post("/flags/{flag_id}/ack", response_model=FlagOut, summary="Acknowledge a flag: it is right")
def post_ack(request: Request, admin: Admin, flag_id: ObjectId) -> FlagOut:
    """The flag stays as it is (an open one stays open and counted), labelled right; it replaces a
    snooze or a dismissal."""
    now = datetime.now(UTC)
    with transaction(store_of(request).sessions) as session:
        flag = acknowledge(session, flag_id=flag_id, now=now, by=_by(admin))
        out = _one_out(session, flag, now=now)
    log.info("admin.flag.acknowledged", flag_id=flag_id)
    return out


@router.post("/flags/{flag_id}/snooze", response_model=FlagOut, summary="Snooze a flag until a date")
def post_snooze(request: Request, admin: Admin, flag_id: ObjectId, body: SnoozeIn) -> FlagOut:
    """The flag stays open but is neither pushed nor listed as open until `until`; then it is back.
    A date or time not in the future, or not a date or time, answers 422."""
    now = datetime.now(UTC)
    with transaction(store_of(request).sessions) as session:
        flag = snooze(session, flag_id=flag_id, until=body.until, now=now, by=_by(admin))
        out = _one_out(session, flag, now=now)
    log.info("admin.flag.snoozed", flag_id=flag_id)
    return out


@router.post("/flags/{flag_id}/dismiss", response_model=FlagOut, summary="Dismiss a flag, with a reason")
def post_dismiss(request: Request, admin: Admin, flag_id: ObjectId, body: DismissIn) -> FlagOut:
    """Dismissed for the evidence it has now: while its rule finds the same on the subject nothing
    is raised or pushed; when the evidence changes the flag comes back."""
    now = datetime.now(UTC)
    with transaction(store_of(request).sessions) as session:
        flag = dismiss(session, flag_id=flag_id, reason=body.reason.value, now=now, by=_by(admin))
        out = _one_out(session, flag, now=now)
    log.info("admin.flag.dismissed", flag_id=flag_id, reason=body.reason.value)
    return out


@router.get("/flags/{flag_id}/history", response_model=list[FlagHistoryOut], summary="A flag's history")
def get_flag_history(request: Request, _admin: Admin, flag_id: ObjectId) -> list[FlagHistoryOut]:
    """Every step of the flag, oldest first: raised, fingerprint_changed, resolved, reopened,
    acknowledged, snoozed, dismissed, published, unpublished."""
    with reading(store_of(request).sessions) as session:
        entries = list_flag_history(session, flag_id=flag_id)
    return [FlagHistoryOut(kind=e.kind, at=e.at, by=e.by, detail=dict(e.detail)) for e in entries]


def _push_out(policy: PushPolicy, *, project_id: int, queued: int) -> PushSettingsOut:
    return PushSettingsOut(
        project_id=project_id,
        enabled=policy.enabled,
        dry_run=policy.dry_run,
        max_per_day=policy.max_per_day,
        quiet_hours=policy.quiet_hours_text,
        timezone=policy.timezone,
        min_severity=policy.min_severity,
        min_precision=policy.min_precision,
        queued=queued,
    )


@router.get(
    "/projects/{project_id}/push", response_model=PushSettingsOut, summary="A project's push-back settings"
)
def get_push(request: Request, _admin: Admin, project_id: ObjectId) -> PushSettingsOut:
    with reading(store_of(request).sessions) as session:
        policy = read_push_policy(session, project_id=project_id)
    return _push_out(policy, project_id=project_id, queued=0)


@router.post(
    "/projects/{project_id}/push/enable",
    response_model=PushSettingsOut,
    summary="Opt a project in to push-back, with its budget",
)
def post_push_enable(
    request: Request, _admin: Admin, project_id: ObjectId, body: PushEnableIn
) -> PushSettingsOut:
    """As `pmbridge push enable`: its open flags are queued at once. Budget settings left null keep
    their value (defaults: 5 new comments a day, no quiet hours, UTC, `warning` and above, rules of
    backtested precision 0.8 and above). A bad
    quiet-hours span or time zone answers 422."""
    now = datetime.now(UTC)
    with transaction(store_of(request).sessions) as session:
        queued = enable_push(
            session,
            project_id=project_id,
            dry_run=body.dry_run,
            now=now,
            max_per_day=body.max_per_day,
            quiet_hours=body.quiet_hours,
            timezone=body.timezone,
            min_severity=None if body.min_severity is None else body.min_severity.value,
            min_precision=body.min_precision,
        )
        policy = read_push_policy(session, project_id=project_id)
    log.info("admin.push.enabled", project_id=project_id, queued=queued)
    return _push_out(policy, project_id=project_id, queued=queued)


@router.post(
    "/projects/{project_id}/push/disable",
    response_model=PushSettingsOut,
    summary="Stop a project's push-back",
)
def post_push_disable(request: Request, _admin: Admin, project_id: ObjectId) -> PushSettingsOut:
    """Comments already posted stay; the budget settings are kept for the next enable."""
    with transaction(store_of(request).sessions) as session:
        disable_push(session, project_id=project_id)
        policy = read_push_policy(session, project_id=project_id)
    log.info("admin.push.disabled", project_id=project_id)
    return _push_out(policy, project_id=project_id, queued=0)


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
