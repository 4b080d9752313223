"""Push-back: one provider comment per item flag, queued through the outbox and edited in place.

What a project allows (`service.flags.push_policy`): at most `max_per_day` new comments a day, none
in its quiet hours, none for flags below its `min_severity`; edits are not budgeted. A due row the
policy or the flag's triage holds back is deferred (it stays queued, its attempt given back) to
when it may go, and rechecked at least hourly so a changed setting or triage takes effect; a row
that will never go (a dismissed flag, one below the minimum severity) is finished unposted, and is
queued again if its flag changes. A dismissed flag's comment already posted is still edited when the
flag resolves, so it does not go on announcing a risk; one never posted never is. Due rows go
highest severity first, then oldest flag first, so a day's budget goes to what matters most. A
first comment takes its place in the budget (`reserve_new_comment`) in the transaction that claims
its row, under a lock of the project's row, so two drains cannot both spend its last place. The
place stays taken if the post fails (it may have reached the provider before the failure): a
budget is never overspent, at worst underspent.

Queueing happens in the evaluator's transaction, so a flag's change and its outbox row commit
together. Draining claims one row at a time, calls the provider outside any transaction, and
records the comment id with the row's completion in one transaction. A worker that dies between
the provider's answer and that commit leaves no comment id behind, so before any post the drain
looks for the flag's comment by its marker (a Jira comment property, a Trello marker line).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from connectors.http import ConnectorError, RateLimitedError, RetryPolicy, TransientError
from connectors.http import NotFoundError as ProviderNotFoundError
from service.domain.enums import FlagState, FlagSubject, FlagTriage, OutboxStatus, PushState, PushWait
from service.domain.signals import Flag
from service.errors import ServiceError
from service.flags.push_channels import CommentChannel, open_comment_channel
from service.flags.push_policy import PushPolicy, severity_rank
from service.flags.push_text import PushedFlag, push_state_of, render_comment_text
from service.logging import get_logger
from service.store.db import Session, transaction
from service.store.flags import (
    count_new_comments,
    find_flag,
    list_flags_by_id,
    list_open_item_flags,
    record_pushed_comment,
    reserve_new_comment,
)
from service.store.outbox import (
    bury_outbox,
    claim_outbox,
    defer_outbox,
    enqueue_outbox,
    find_outbox_by_key,
    finish_outbox,
    list_due_outbox,
    read_outbox_payloads,
    rearm_outbox,
    reschedule_outbox,
)
from service.store.projects import (
    PushTarget,
    find_push_target,
    lock_project,
    read_project_push_settings,
    update_project_push_settings,
)
from service.store.runtime import Store
from service.store.sources import get_source, read_credentials

log = get_logger(__name__)

PUSH_KIND = "flag_comment"
DRY_RUN_REF = "dry-run"
# Long enough for one row's provider calls with their retries; a dead worker's row is due after it.
CLAIM_LEASE = timedelta(minutes=5)
# Permanent failures (404 issue, 400, bad credentials) get this many attempts before the row dies.
MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# A worker must not sleep long on a 429: past this the row is rescheduled instead.
DEFAULT_RETRY = RetryPolicy(max_attempts=3, max_retry_after=10.0)
# Jira answers 429 for one issue's writes with this reason; other 429s hold the whole site back.
PER_ISSUE_REASON = "jira-per-issue-on-write"
# A deferred row is looked at again after this at the latest, so that a setting or a triage changed
# meanwhile (a budget raised, a snooze lifted) takes effect.
RECHECK_WAITING = timedelta(hours=1)

PushOutcome = Literal["created", "updated", "recovered"]


@dataclass(slots=True)
class PushSummary:
    created: int = 0
    updated: int = 0
    recovered: int = 0
    dry_run: int = 0
    rescheduled: int = 0
    dead: int = 0
    skipped: int = 0
    waiting: int = 0

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    def count(self, outcome: PushOutcome) -> None:
        if outcome == "created":
            self.created += 1
        elif outcome == "updated":
            self.updated += 1
        else:
            self.recovered += 1


def push_policy(target: PushTarget) -> PushPolicy:
    """The target's project's push-back settings; pushing is off unless switched on."""
    return PushPolicy.of(target.push_settings)


def is_pushable(flag: Flag) -> bool:
    """Item flags of rules with `push_to_jira` (the evaluator stores the rule's setting in evidence)."""
    return flag.subject is FlagSubject.ITEM and flag.evidence.get("push_to_jira", True) is not False


def queue_flag_push(session: Session, *, flag: Flag, now: datetime) -> bool:
    """Queue the flag's current state for its comment; True when a row was queued.

    A finished row for the same state (an earlier dry run, or a flag that came back to a state it
    had) is queued again rather than inserted, since the idempotency key names the state.
    """
    if not is_pushable(flag):
        return False
    target = find_push_target(session, item_id=flag.subject_id)
    if target is None or not push_policy(target).enabled:
        return False
    if flag.triage_at(now) is FlagTriage.DISMISSED and (flag.state is FlagState.OPEN or _is_new(flag)):
        return False
    current = push_state_of(fingerprint=flag.fingerprint, state=flag.state.value)
    if flag.pushed_fingerprint == current:
        return False
    key = f"flag:{flag.id}:{flag.fingerprint}:{flag.state.value}"
    payload: dict[str, Any] = {
        "flag_id": flag.id,
        "item_id": target.item_id,
        "fingerprint": flag.fingerprint,
        "state": flag.state.value,
    }
    queued = enqueue_outbox(
        session,
        idempotency_key=key,
        kind=PUSH_KIND,
        source_id=target.source_id,
        target=target.item_key,
        payload=payload,
        now=now,
    )
    if queued is not None:
        return True
    existing = find_outbox_by_key(session, idempotency_key=key)
    if existing is None or existing.status is OutboxStatus.PENDING:
        return False
    rearm_outbox(session, outbox_id=existing.id, now=now)
    return True


def enable_push(
    session: Session,
    *,
    project_id: int,
    dry_run: bool,
    now: datetime,
    max_per_day: int | None = None,
    quiet_hours: str | None = None,
    timezone: str | None = None,
    min_severity: str | None = None,
) -> int:
    """Switch pushing on for a project, with the budget settings given (those not given keep their
    value, or their default), and queue its open item flags; returns how many were queued.
    A setting that does not parse raises `UnprocessableInputError` and changes nothing."""
    policy = PushPolicy.of(read_project_push_settings(session, project_id=project_id)).with_changes(
        enabled=True,
        dry_run=dry_run,
        max_per_day=max_per_day,
        quiet_hours=quiet_hours,
        timezone=timezone,
        min_severity=min_severity,
    )
    update_project_push_settings(session, project_id=project_id, settings=policy.to_settings())
    return sum(
        queue_flag_push(session, flag=flag, now=now)
        for flag in list_open_item_flags(session, project_id=project_id)
    )


def disable_push(session: Session, *, project_id: int) -> None:
    """Stop pushing for a project (its budget settings are kept); comments already posted stay."""
    policy = PushPolicy.of(read_project_push_settings(session, project_id=project_id))
    update_project_push_settings(
        session,
        project_id=project_id,
        settings=policy.with_changes(enabled=False, dry_run=False).to_settings(),
    )


def read_push_policy(session: Session, *, project_id: int) -> PushPolicy:
    return PushPolicy.of(read_project_push_settings(session, project_id=project_id))


@dataclass(frozen=True, slots=True)
class PushStatus:
    """Where a flag's comment stands, and why it waits when it does."""

    state: PushState
    reason: PushWait | None = None


def read_push_statuses(session: Session, *, flags: list[Flag], now: datetime) -> dict[int, PushStatus]:
    """Each flag's push status by id, as a drain at `now` would see it (a day's budget counted as
    spent so far, so the flags it would hold back before the first post are listed as queued)."""
    statuses: dict[int, PushStatus] = {}
    counted: dict[tuple[int, datetime], int] = {}
    for flag in flags:
        assert flag.id is not None
        statuses[flag.id] = _status_of(session, flag, now=now, counted=counted)
    return statuses


def _status_of(
    session: Session, flag: Flag, *, now: datetime, counted: dict[tuple[int, datetime], int]
) -> PushStatus:
    if not is_pushable(flag):
        return PushStatus(PushState.WAITING, PushWait.RULE_NOT_PUSHED)
    target = find_push_target(session, item_id=flag.subject_id)
    if target is None or not (policy := push_policy(target)).enabled:
        return PushStatus(PushState.WAITING, PushWait.PUSH_DISABLED)
    if flag.pushed_fingerprint == push_state_of(fingerprint=flag.fingerprint, state=flag.state.value):
        return PushStatus(PushState.POSTED)
    wait = _wait_of(session, flag, target=target, policy=policy, at=now, lock=False, counted=counted)
    return PushStatus(PushState.QUEUED) if wait is None else PushStatus(PushState.WAITING, wait[0])


def _is_new(flag: Flag) -> bool:
    """Whether pushing the flag posts a first comment (none posted, none reserved)."""
    return flag.pushed_comment_id is None and flag.comment_created_at is None


def _wait_of(
    session: Session,
    flag: Flag,
    *,
    target: PushTarget,
    policy: PushPolicy,
    at: datetime,
    lock: bool,
    counted: dict[tuple[int, datetime], int] | None = None,
) -> tuple[PushWait, datetime | None] | None:
    """Why the flag's comment may not go at `at`, and until when (None: not until the flag or the
    settings change); None when it may go. `lock` holds the project's row for the budget's count;
    `counted` keeps a listing's counts by project and day, so each is read once."""
    triage = flag.triage_at(at)
    if triage is FlagTriage.DISMISSED and (flag.state is FlagState.OPEN or _is_new(flag)):
        return PushWait.DISMISSED, None
    if flag.state is FlagState.OPEN and triage is FlagTriage.SNOOZED and flag.snoozed_until is not None:
        return PushWait.SNOOZED, min(flag.snoozed_until, at + RECHECK_WAITING)
    if not _is_new(flag):
        return None
    if not policy.admits(flag.severity):
        return PushWait.BELOW_MIN_SEVERITY, None
    if policy.dry_run:
        return None
    quiet_end = policy.quiet_until(at)
    if quiet_end is not None:
        return PushWait.QUIET_HOURS, min(quiet_end, at + RECHECK_WAITING)
    start, end = policy.day_of(at)
    if lock:
        lock_project(session, project_id=target.project_id)
    key = (target.project_id, start)
    spent = None if counted is None else counted.get(key)
    if spent is None:
        spent = count_new_comments(session, project_id=target.project_id, since=start, until=end)
        if counted is not None:
            counted[key] = spent
    if spent >= policy.max_per_day:
        return PushWait.BUDGET, min(end, at + RECHECK_WAITING)
    return None


@dataclass(frozen=True, slots=True)
class _Job:
    outbox_id: int
    attempts: int
    source_id: int
    target: PushTarget
    flag: PushedFlag
    pushed_comment_id: str | None


def drain_pushes(
    store: Store,
    *,
    now: datetime | None = None,
    limit: int = 100,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> PushSummary:
    """Process due flag comments. One row's failure reschedules or buries that row only.

    `now` fixes the clock for the whole drain (tests); otherwise each row reads the time.
    """
    summary = PushSummary()
    policy = retry or DEFAULT_RETRY
    with transaction(store.sessions) as session:
        due = _by_priority(
            session, list_due_outbox(session, kind=PUSH_KIND, now=now or datetime.now(UTC), limit=limit)
        )
    held: dict[tuple[int, str | None], datetime] = {}
    channels: dict[int, CommentChannel] = {}
    with ExitStack() as closing:
        for outbox_id in due:
            at = now or datetime.now(UTC)
            job = _claim(store, outbox_id=outbox_id, at=at, summary=summary)
            if job is None:
                continue
            hold = held.get((job.source_id, job.target.item_external_id)) or held.get((job.source_id, None))
            if hold is not None and hold > at:
                _reschedule(store, job, until=hold, error="held back by a rate limit", at=at)
                summary.rescheduled += 1
                continue
            try:
                channel = channels.get(job.source_id)
                if channel is None:
                    channel = _open_channel(store, source_id=job.source_id, transport=transport, retry=policy)
                    closing.callback(channel.close)
                    channels[job.source_id] = channel
                outcome, comment_id = _push(channel, job)
            except TransientError as exc:
                until = at + _wait(exc, attempts=job.attempts)
                if isinstance(exc, RateLimitedError):
                    scope = job.target.item_external_id if exc.reason == PER_ISSUE_REASON else None
                    held[(job.source_id, scope)] = until
                _reschedule(store, job, until=until, error=str(exc), at=at)
                summary.rescheduled += 1
                log.info(
                    "flags.push.rescheduled",
                    outbox_id=job.outbox_id,
                    flag_id=job.flag.id,
                    until=until.isoformat(),
                )
            except (ConnectorError, ServiceError) as exc:
                if _fail(store, job, error=str(exc), at=at):
                    summary.dead += 1
                else:
                    summary.rescheduled += 1
            else:
                _record(store, job, comment_id=comment_id, at=at)
                summary.count(outcome)
                log.info("flags.push.recorded", outbox_id=job.outbox_id, flag_id=job.flag.id, outcome=outcome)
    return summary


def _by_priority(session: Session, due: list[int]) -> list[int]:
    """Due rows with their flags' highest severity first, then the oldest flag first; rows of
    flags gone keep their place at the end (the claim finishes them)."""
    payloads = read_outbox_payloads(session, outbox_ids=due)
    flag_ids = {outbox_id: int(payload.get("flag_id", 0)) for outbox_id, payload in payloads.items()}
    flags = {flag.id: flag for flag in list_flags_by_id(session, flag_ids=set(flag_ids.values()))}

    def order(outbox_id: int) -> tuple[int, float, int, int]:
        flag = flags.get(flag_ids.get(outbox_id, 0))
        if flag is None or flag.id is None:
            return (1, 0.0, 0, outbox_id)
        return (-severity_rank(flag.severity), flag.first_seen_at.timestamp(), flag.id, outbox_id)

    return sorted(due, key=order)


def _claim(store: Store, *, outbox_id: int, at: datetime, summary: PushSummary) -> _Job | None:
    """Claim the row and settle in the same transaction what needs no provider call."""
    with transaction(store.sessions) as session:
        entry = claim_outbox(session, outbox_id=outbox_id, now=at, lease_until=at + CLAIM_LEASE)
        if entry is None:
            return None
        flag = find_flag(session, flag_id=int(entry.payload["flag_id"]))
        target = find_push_target(session, item_id=flag.subject_id) if flag is not None else None
        if flag is None or target is None:
            finish_outbox(session, outbox_id=outbox_id, external_ref=None, now=at)
            summary.skipped += 1
            return None
        pushed = pushed_flag_of(flag)
        policy = push_policy(target)
        if not policy.enabled or not is_pushable(flag) or flag.pushed_fingerprint == pushed.push_state:
            finish_outbox(session, outbox_id=outbox_id, external_ref=flag.pushed_comment_id, now=at)
            summary.skipped += 1
            return None
        wait = _wait_of(session, flag, target=target, policy=policy, at=at, lock=True)
        if wait is not None:
            reason, until = wait
            if until is None:
                finish_outbox(session, outbox_id=outbox_id, external_ref=flag.pushed_comment_id, now=at)
                summary.skipped += 1
            else:
                defer_outbox(
                    session, outbox_id=outbox_id, until=until, why=f"waiting: {reason.value}", now=at
                )
                summary.waiting += 1
            log.info("flags.push.waiting", flag_id=flag.id, reason=reason.value)
            return None
        if policy.dry_run:
            log.info(
                "flags.push.dry_run_rendered",
                flag_id=flag.id,
                target=target.item_key,
                text=render_comment_text(pushed),
            )
            finish_outbox(session, outbox_id=outbox_id, external_ref=DRY_RUN_REF, now=at)
            summary.dry_run += 1
            return None
        if _is_new(flag):
            reserve_new_comment(session, flag_id=pushed.id, now=at)
        return _Job(
            outbox_id=outbox_id,
            attempts=entry.attempts,
            source_id=entry.source_id,
            target=target,
            flag=pushed,
            pushed_comment_id=flag.pushed_comment_id,
        )


def pushed_flag_of(flag: Flag, *, untracked: bool = False) -> PushedFlag:
    """What the flag's comment shows of it; `untracked` once its source is removed."""
    assert flag.id is not None
    return PushedFlag(
        id=flag.id,
        rule_id=flag.rule_id,
        severity=flag.severity.value,
        state=flag.state.value,
        message=flag.message,
        evidence=dict(flag.evidence),
        fingerprint=flag.fingerprint,
        resolved_at=flag.resolved_at,
        untracked=untracked,
    )


def _open_channel(
    store: Store, *, source_id: int, transport: httpx.BaseTransport | None, retry: RetryPolicy
) -> CommentChannel:
    with store.sessions() as session:
        source = get_source(session, source_id=source_id)
        credentials = read_credentials(session, cipher=store.cipher, source_id=source_id)
    return open_comment_channel(source, credentials, transport=transport, retry=retry)


def _push(channel: CommentChannel, job: _Job) -> tuple[PushOutcome, str]:
    target = job.target.item_external_id
    if job.pushed_comment_id is not None:
        try:
            channel.update(target=target, comment_id=job.pushed_comment_id, flag=job.flag)
            return "updated", job.pushed_comment_id
        except ProviderNotFoundError:
            log.info("flags.push.comment_vanished", flag_id=job.flag.id, comment_id=job.pushed_comment_id)
    found = channel.find(target=target, flag_id=job.flag.id)
    if found is not None:
        channel.update(target=target, comment_id=found, flag=job.flag)
        return "recovered", found
    return "created", channel.create(target=target, flag=job.flag)


def _wait(exc: TransientError, *, attempts: int) -> timedelta:
    if exc.retry_after is not None:
        return timedelta(seconds=exc.retry_after)
    return _backoff(attempts)


def _backoff(attempts: int) -> timedelta:
    """Doubling from BACKOFF_BASE per attempt made, capped (the shift is bounded so it cannot overflow)."""
    return min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(max(attempts - 1, 0), 16)))


def _record(store: Store, job: _Job, *, comment_id: str, at: datetime) -> None:
    with transaction(store.sessions) as session:
        record_pushed_comment(
            session, flag_id=job.flag.id, comment_id=comment_id, pushed_state=job.flag.push_state, now=at
        )
        finish_outbox(session, outbox_id=job.outbox_id, external_ref=comment_id, now=at)


def _reschedule(store: Store, job: _Job, *, until: datetime, error: str, at: datetime) -> None:
    with transaction(store.sessions) as session:
        reschedule_outbox(session, outbox_id=job.outbox_id, at=until, error=error, now=at)


def _fail(store: Store, job: _Job, *, error: str, at: datetime) -> bool:
    """Bury the row after MAX_ATTEMPTS, else retry later; True when it died."""
    with transaction(store.sessions) as session:
        if job.attempts >= MAX_ATTEMPTS:
            bury_outbox(session, outbox_id=job.outbox_id, error=error, now=at)
            log.warning("flags.push.dead", outbox_id=job.outbox_id, flag_id=job.flag.id, error=error)
            return True
        until = at + _backoff(job.attempts)
        reschedule_outbox(session, outbox_id=job.outbox_id, at=until, error=error, now=at)
        return False
