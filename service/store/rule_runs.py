"""Rule runs: dry runs and backtests an operator asked for through the API, done by the job runner
(a backtest run at once from the CLI is kept as a finished run too: `add_finished_rule_run`).

A run is queued with its request, claimed by one job at a time, reports its progress, and ends with
a result or an error. At most `at_once` runs are running across every process: a claim counts the
running ones under a lock (SQLite's write lock, a PostgreSQL advisory lock), and a job that finds
the limit reached tries again later. A run whose process died while running is queued again by the
sweep once it has been running longer than any run takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from service.domain.enums import RuleRunKind, RuleRunStatus
from service.errors import NotFoundError, TooManyRunsError
from service.store.orm import RuleRunRow

# Any constant of pmbridge's own, so claims of rule runs queue behind each other on PostgreSQL.
_CLAIM_LOCK_KEY = 0x706D62_72756E  # "pmb" "run"
# Backtests of a rule file are passed over for the rules as shipped; this many are looked at.
_LATEST_LOOKED_AT = 50


@dataclass(frozen=True, slots=True)
class RuleRun:
    id: int
    kind: RuleRunKind
    status: RuleRunStatus
    params: dict[str, Any]
    progress: float
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class Claim(StrEnum):
    CLAIMED = "claimed"
    BUSY = "busy"  # as many runs as allowed are running: try again later
    GONE = "gone"  # no such run, or it is running or done already


def _run(row: RuleRunRow) -> RuleRun:
    return RuleRun(
        id=row.id,
        kind=RuleRunKind(row.kind),
        status=RuleRunStatus(row.status),
        params=dict(row.params),
        progress=row.progress,
        result=row.result,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def add_rule_run(
    session: Session, *, kind: RuleRunKind, params: dict[str, Any], now: datetime, max_waiting: int
) -> RuleRun:
    """Queue a run; refused with `TooManyRunsError` when `max_waiting` runs are queued or running."""
    waiting = session.execute(
        select(func.count())
        .select_from(RuleRunRow)
        .where(RuleRunRow.status.in_([RuleRunStatus.QUEUED.value, RuleRunStatus.RUNNING.value]))
    ).scalar_one()
    if waiting >= max_waiting:
        raise TooManyRunsError(
            f"{waiting} rule runs are waiting; try again when one has finished", details={"waiting": waiting}
        )
    row = RuleRunRow(
        kind=kind.value, status=RuleRunStatus.QUEUED.value, params=params, progress=0.0, created_at=now
    )
    session.add(row)
    session.flush()
    return _run(row)


def get_rule_run(session: Session, *, run_id: int) -> RuleRun:
    row = session.get(RuleRunRow, run_id)
    if row is None:
        raise NotFoundError(f"rule run {run_id} not found", details={"run_id": run_id})
    return _run(row)


def list_rule_runs(session: Session, *, limit: int) -> list[RuleRun]:
    """The newest runs first."""
    rows = session.scalars(select(RuleRunRow).order_by(RuleRunRow.id.desc()).limit(limit))
    return [_run(row) for row in rows]


def add_finished_rule_run(
    session: Session, *, kind: RuleRunKind, params: dict[str, Any], result: dict[str, Any], now: datetime
) -> RuleRun:
    """Record a run done at once (`pmbridge rules backtest`), so it counts as the API's do."""
    row = RuleRunRow(
        kind=kind.value,
        status=RuleRunStatus.SUCCEEDED.value,
        params=params,
        progress=1.0,
        result=result,
        created_at=now,
        started_at=now,
        finished_at=now,
    )
    session.add(row)
    session.flush()
    return _run(row)


def latest_backtest_created_at(session: Session) -> datetime | None:
    """When the newest backtest of the rules as shipped that did not fail was asked for."""
    rows = session.scalars(
        select(RuleRunRow)
        .where(
            RuleRunRow.kind == RuleRunKind.BACKTEST.value,
            RuleRunRow.status != RuleRunStatus.FAILED.value,
        )
        .order_by(RuleRunRow.id.desc())
        .limit(_LATEST_LOOKED_AT)
    )
    return next((row.created_at for row in rows if row.params.get("rules") is None), None)


def latest_backtest_result(session: Session) -> dict[str, Any] | None:
    """The result of the newest succeeded backtest of the rules as shipped (no rule file given)."""
    rows = session.scalars(
        select(RuleRunRow)
        .where(
            RuleRunRow.kind == RuleRunKind.BACKTEST.value,
            RuleRunRow.status == RuleRunStatus.SUCCEEDED.value,
        )
        .order_by(RuleRunRow.id.desc())
        .limit(_LATEST_LOOKED_AT)
    )
    return next((row.result for row in rows if row.params.get("rules") is None and row.result), None)


def claim_rule_run(session: Session, *, run_id: int, now: datetime, at_once: int) -> Claim:
    """Start a queued run, unless `at_once` runs are running already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK_KEY})
    row = session.get(RuleRunRow, run_id)
    if row is None or row.status != RuleRunStatus.QUEUED.value:
        return Claim.GONE
    running = session.execute(
        select(func.count()).select_from(RuleRunRow).where(RuleRunRow.status == RuleRunStatus.RUNNING.value)
    ).scalar_one()
    if running >= at_once:
        return Claim.BUSY
    row.status = RuleRunStatus.RUNNING.value
    row.started_at = now
    session.flush()
    return Claim.CLAIMED


def record_rule_run_progress(session: Session, *, run_id: int, progress: float) -> None:
    session.execute(update(RuleRunRow).where(RuleRunRow.id == run_id).values(progress=progress))


def finish_rule_run(
    session: Session, *, run_id: int, now: datetime, result: dict[str, Any] | None, error: str | None
) -> None:
    """End a run with its result, or with the error that stopped it."""
    status = RuleRunStatus.FAILED if error is not None else RuleRunStatus.SUCCEEDED
    session.execute(
        update(RuleRunRow)
        .where(RuleRunRow.id == run_id)
        .values(
            status=status.value,
            result=result,
            error=error,
            finished_at=now,
            progress=1.0 if error is None else RuleRunRow.progress,
        )
    )


def requeue_stalled_rule_runs(
    session: Session, *, now: datetime, running_longer_than: timedelta
) -> list[int]:
    """Queue again the runs whose process stopped while running them; returns their ids."""
    stalled = list(
        session.scalars(
            select(RuleRunRow.id).where(
                RuleRunRow.status == RuleRunStatus.RUNNING.value,
                RuleRunRow.started_at < now - running_longer_than,
            )
        )
    )
    if stalled:
        session.execute(
            update(RuleRunRow)
            .where(RuleRunRow.id.in_(stalled))
            .values(status=RuleRunStatus.QUEUED.value, started_at=None, progress=0.0)
        )
    return stalled


def list_queued_rule_runs(session: Session, *, created_before: datetime) -> list[int]:
    """Runs still queued since before `created_before`: their trigger may have been lost."""
    return list(
        session.scalars(
            select(RuleRunRow.id)
            .where(RuleRunRow.status == RuleRunStatus.QUEUED.value, RuleRunRow.created_at < created_before)
            .order_by(RuleRunRow.id)
        )
    )
