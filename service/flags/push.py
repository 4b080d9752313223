"""Push-back: one provider comment per item flag, queued through the outbox and edited in place.

What a project allows (`service.flags.push_policy`): at most `max_per_day` new comments a day, none
in its quiet hours, none for flags below its `min_severity` or of a rule whose backtested precision is
below its `min_precision`; edits are not budgeted. A due row the
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
from typing import Literal

import httpx

from connectors.http import ConnectorError, RateLimitedError, RetryPolicy, TransientError
from connectors.http import NotFoundError as ProviderNotFoundError
from service.domain.signals import Flag
from service.errors import ServiceError
from service.flags.push_channels import CommentChannel, open_comment_channel
from service.flags.push_policy import severity_rank
from service.flags.push_queue import (
    PUSH_KIND,
    is_new,
    is_pushable,
    push_policy,
    read_rule_precisions,
    wait_of,
)
from service.flags.push_text import PushedFlag, render_comment_text
from service.logging import get_logger
from service.store.db import Session, transaction
from service.store.flags import (
    find_flag,
    list_flags_by_id,
    record_pushed_comment,
    reserve_new_comment,
)
from service.store.outbox import (
    bury_outbox,
    claim_outbox,
    defer_outbox,
    finish_outbox,
    in_flight_until,
    list_due_outbox,
    read_outbox_payloads,
    reschedule_outbox,
)
from service.store.projects import (
    PushTarget,
    find_push_target,
    lock_project,
)
from service.store.runtime import Store
from service.store.sources import get_source, read_credentials

log = get_logger(__name__)

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

# A row deferred because another of its item is in flight is looked at again this soon.
IN_FLIGHT_RECHECK = timedelta(seconds=10)

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
        # One comment's work at a time per item: a row of another state of this flag (or of another
        # flag of the item) held by a worker may be posting a first comment this one cannot see yet.
        # The project's row is locked first, so two claims cannot both miss each other.
        lock_project(session, project_id=target.project_id)
        busy = in_flight_until(
            session,
            outbox_id=outbox_id,
            kind=entry.kind,
            source_id=entry.source_id,
            target=entry.target,
            now=at,
        )
        if busy is not None:
            defer_outbox(
                session,
                outbox_id=outbox_id,
                until=min(busy, at + IN_FLIGHT_RECHECK),
                why="waiting: in flight",
                now=at,
            )
            summary.waiting += 1
            return None
        pushed = pushed_flag_of(flag)
        policy = push_policy(target)
        if not policy.enabled or not is_pushable(flag) or flag.pushed_fingerprint == pushed.push_state:
            finish_outbox(session, outbox_id=outbox_id, external_ref=flag.pushed_comment_id, now=at)
            summary.skipped += 1
            return None
        precisions = read_rule_precisions(session)
        wait = wait_of(session, flag, target=target, policy=policy, at=at, lock=True, precisions=precisions)
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
        if is_new(flag):
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
