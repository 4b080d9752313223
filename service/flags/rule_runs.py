"""Rule runs asked through the admin API (dry runs and backtests): queued, claimed by a worker at
most `at_once` at a time, their progress recorded as they go, then their result or their error."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from service.domain.enums import RuleRunKind
from service.flags.backtest import run_backtest
from service.flags.dryrun import run_dry_run
from service.logging import get_logger
from service.store.db import transaction
from service.store.rule_runs import (
    Claim,
    RuleRun,
    claim_rule_run,
    finish_rule_run,
    get_rule_run,
    record_rule_run_progress,
)
from service.store.runtime import Store

log = get_logger(__name__)

# Progress is written at most this often: a year's replay reports a few dozen times, not 365.
PROGRESS_EVERY_S = 1.0


def _do_rule_run(store: Store, run: RuleRun, report: Callable[[int, int], None]) -> dict[str, Any]:
    if run.kind is RuleRunKind.BACKTEST:
        return run_backtest(store, run.params, progress=report).to_json()
    return run_dry_run(store, run.params, progress=report)


def run_queued_rule_run(
    store: Store, *, run_id: int, at_once: int, monotonic: Callable[[], float] = time.monotonic
) -> Claim:
    """Claim a queued rule run (a dry run or a backtest) and do it, recording its progress, then
    its result or its error.

    Returns `Claim.BUSY` when `at_once` runs are running already (the caller tries again later) and
    `Claim.GONE` when the run is not queued (done, or running elsewhere).
    """
    with transaction(store.sessions) as session:
        claim = claim_rule_run(session, run_id=run_id, now=datetime.now(UTC), at_once=at_once)
        run = get_rule_run(session, run_id=run_id) if claim is Claim.CLAIMED else None
    if run is None:
        return claim
    last_written = monotonic()

    def report(done: int, total: int) -> None:
        nonlocal last_written
        if monotonic() - last_written < PROGRESS_EVERY_S:
            return
        last_written = monotonic()
        with transaction(store.sessions) as session:
            record_rule_run_progress(session, run_id=run_id, progress=round(done / total, 4))

    try:
        result = _do_rule_run(store, run, report)
    except Exception as exc:
        # The run's row says why it stopped; a retry of the job would only find it finished.
        error = f"{type(exc).__name__}: {exc}"
        log.warning("flags.rule_run.failed", run_id=run_id, error=error)
        with transaction(store.sessions) as session:
            finish_rule_run(session, run_id=run_id, now=datetime.now(UTC), result=None, error=error)
        return Claim.CLAIMED
    with transaction(store.sessions) as session:
        finish_rule_run(session, run_id=run_id, now=datetime.now(UTC), result=result, error=None)
    return Claim.CLAIMED
