"""Push-back's queue side: which flags' comments are queued, what a project's policy allows, and
where each flag's comment stands (`read_push_statuses`). It reads and writes the store only, so the
commands and routes that list or triage flags load no provider client; `service.flags.push` drains
the queue to Jira and Trello."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service.domain.enums import FlagState, FlagSubject, FlagTriage, OutboxStatus, PushState, PushWait
from service.domain.signals import Flag
from service.flags.push_policy import PushPolicy
from service.flags.push_text import push_state_of
from service.store.db import Session
from service.store.flags import count_new_comments, list_open_item_flags
from service.store.outbox import enqueue_outbox, find_outbox_by_key, rearm_outbox
from service.store.projects import (
    PushTarget,
    find_push_target,
    lock_project,
    read_project_push_settings,
    update_project_push_settings,
)
from service.store.rule_runs import latest_backtest_result

PUSH_KIND = "flag_comment"
# A deferred row is looked at again after this at the latest, so that a setting or a triage changed
# meanwhile (a budget raised, a snooze lifted) takes effect.
RECHECK_WAITING = timedelta(hours=1)


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
    if flag.triage_at(now) is FlagTriage.DISMISSED and (flag.state is FlagState.OPEN or is_new(flag)):
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
    min_precision: float | None = None,
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
        min_precision=min_precision,
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


def read_rule_precisions(session: Session) -> dict[str, float]:
    """Each rule's precision in the latest backtest of the rules as shipped (rules with none
    decided are absent): what a policy's `min_precision` is held against."""
    result = latest_backtest_result(session) or {}
    rows = result.get("rules")
    found: dict[str, float] = {}
    for row in rows if isinstance(rows, list) else []:
        precision = row.get("precision") if isinstance(row, dict) else None
        if isinstance(precision, int | float) and isinstance(row.get("rule"), str):
            found[row["rule"]] = float(precision)
    return found


def read_push_statuses(session: Session, *, flags: list[Flag], now: datetime) -> dict[int, PushStatus]:
    """Each flag's push status by id, as a drain at `now` would see it (a day's budget counted as
    spent so far, so the flags it would hold back before the first post are listed as queued)."""
    statuses: dict[int, PushStatus] = {}
    counted: dict[tuple[int, datetime], int] = {}
    precisions = read_rule_precisions(session) if flags else {}
    for flag in flags:
        assert flag.id is not None
        statuses[flag.id] = _status_of(session, flag, now=now, counted=counted, precisions=precisions)
    return statuses


def _status_of(
    session: Session,
    flag: Flag,
    *,
    now: datetime,
    counted: dict[tuple[int, datetime], int],
    precisions: Mapping[str, float],
) -> PushStatus:
    if not is_pushable(flag):
        return PushStatus(PushState.WAITING, PushWait.RULE_NOT_PUSHED)
    target = find_push_target(session, item_id=flag.subject_id)
    if target is None or not (policy := push_policy(target)).enabled:
        return PushStatus(PushState.WAITING, PushWait.PUSH_DISABLED)
    if flag.pushed_fingerprint == push_state_of(fingerprint=flag.fingerprint, state=flag.state.value):
        return PushStatus(PushState.POSTED)
    wait = wait_of(
        session,
        flag,
        target=target,
        policy=policy,
        at=now,
        lock=False,
        precisions=precisions,
        counted=counted,
    )
    return PushStatus(PushState.QUEUED) if wait is None else PushStatus(PushState.WAITING, wait[0])


def is_new(flag: Flag) -> bool:
    """Whether pushing the flag posts a first comment (none posted, none reserved)."""
    return flag.pushed_comment_id is None and flag.comment_created_at is None


def wait_of(
    session: Session,
    flag: Flag,
    *,
    target: PushTarget,
    policy: PushPolicy,
    at: datetime,
    lock: bool,
    precisions: Mapping[str, float],
    counted: dict[tuple[int, datetime], int] | None = None,
) -> tuple[PushWait, datetime | None] | None:
    """Why the flag's comment may not go at `at`, and until when (None: not until the flag or the
    settings change); None when it may go. `precisions` are the rules' backtested precisions
    (`read_rule_precisions`). `lock` holds the project's row for the budget's count;
    `counted` keeps a listing's counts by project and day, so each is read once."""
    triage = flag.triage_at(at)
    if triage is FlagTriage.DISMISSED and (flag.state is FlagState.OPEN or is_new(flag)):
        return PushWait.DISMISSED, None
    if flag.state is FlagState.OPEN and triage is FlagTriage.SNOOZED and flag.snoozed_until is not None:
        return PushWait.SNOOZED, min(flag.snoozed_until, at + RECHECK_WAITING)
    if not is_new(flag):
        return None
    if not policy.admits(flag.severity):
        return PushWait.BELOW_MIN_SEVERITY, None
    if not policy.trusts(precisions.get(flag.rule_id)):
        return PushWait.BELOW_MIN_PRECISION, None
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
