"""The backtest over stored history: the rules as shipped (or a rule file over them), scored against
what the history shows happened later, with operators' verdicts on real flags as labels. Run at
once (`pmbridge rules backtest`) or as a queued rule run (`POST /admin/rules/backtest`).

Projects replay independently, so they replay in parallel, one process per core (`workers`), and
their replays are merged before scoring.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timedelta
from typing import Any

from service.domain.enums import DismissReason, FlagSubject, FlagTriage, RuleRunKind
from service.errors import InvalidInputError, TooManyRunsError
from service.flags.dryrun import load_histories
from service.flags.push_policy import DEFAULT_MAX_PER_DAY, DEFAULT_MIN_PRECISION, DEFAULT_MIN_SEVERITY
from service.flags.rulesets import load_rule_text
from service.rules import ProjectHistory, RuleSet, default_rule_set
from service.rules.backtest import (
    BacktestError,
    BacktestReport,
    Label,
    PushModel,
    Replay,
    SubjectKey,
    check_window,
    merge,
    replay,
    score,
)
from service.store.db import Session, transaction
from service.store.flags import list_flag_labels
from service.store.rule_runs import RuleRun, add_finished_rule_run, add_rule_run, latest_backtest_created_at
from service.store.runtime import Store

DEFAULT_STEP = timedelta(days=1)


def backtest_rule_set(rules: str | None) -> RuleSet:
    """The built-in rules as shipped, with a rule file's text over them when one is given."""
    if rules is None:
        return default_rule_set()
    return default_rule_set().override(load_rule_text(rules, source_name="rules"))


def load_labels(store: Store, histories: Sequence[ProjectHistory]) -> dict[tuple[str, SubjectKey], Label]:
    """Operators' verdicts on the flags they triaged, by rule and subject.

    Acknowledged is right; dismissed as a false positive is wrong. Dismissed as `known` or
    `not_client_relevant` is right too (the situation was real, only not news). A verdict counts for
    every replayed flag of that rule on that subject; one on a project flag, for each item it named.
    """
    subjects: dict[tuple[FlagSubject, int], SubjectKey] = {}
    project_sources: dict[int, int] = {}
    for history in histories:
        if history.project.id is not None:
            project_sources[history.project.id] = history.project.source_id
        for entry in history.items:
            item = entry.item
            if item.id is not None:
                subjects[(FlagSubject.ITEM, item.id)] = (FlagSubject.ITEM, item.source_id, item.key)
        for recorded in history.milestones:
            m = recorded.milestone
            if m.id is not None:
                subjects[(FlagSubject.MILESTONE, m.id)] = (FlagSubject.MILESTONE, m.source_id, m.external_id)
    with store.sessions() as session:
        flags = list_flag_labels(session)
    labels: dict[tuple[str, SubjectKey], Label] = {}
    for flag in flags:
        if flag.triage is FlagTriage.ACKNOWLEDGED:
            label = Label.EARNED
        elif flag.triage is FlagTriage.DISMISSED:
            wrong = flag.reason is DismissReason.FALSE_POSITIVE
            label = Label.NOT_EARNED if wrong else Label.EARNED
        else:
            continue
        # A project flag is scored as the items it grouped, so its verdict is theirs.
        source = project_sources.get(flag.subject_id) if flag.subject is FlagSubject.PROJECT else None
        if source is not None:
            for key in flag.item_keys:
                labels[(flag.rule_id, (FlagSubject.ITEM, source, key))] = label
            continue
        subject = subjects.get((flag.subject, flag.subject_id))
        if subject is not None:
            labels[(flag.rule_id, subject)] = label
    return labels


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _replay_part(
    rules: str | None, histories: Sequence[ProjectHistory], since: datetime, until: datetime, step: timedelta
) -> Replay:
    """One worker's share: the rule set is rebuilt from its text (compiled rules do not pickle)."""
    return replay(backtest_rule_set(rules), histories, since=since, until=until, step=step)


def _replay_all(
    rules: str | None,
    histories: Sequence[ProjectHistory],
    *,
    since: datetime,
    until: datetime,
    step: timedelta,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> Replay:
    if workers <= 1 or len(histories) <= 1:
        return replay(
            backtest_rule_set(rules), histories, since=since, until=until, step=step, progress=progress
        )
    # Largest projects first, so no worker is left with a big one at the end.
    ordered = sorted(histories, key=lambda h: len(h.items), reverse=True)
    parts: list[Replay] = []
    # Spawned, not forked: the caller may be a threaded worker or server.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(ordered)), mp_context=context) as pool:
        futures = [pool.submit(_replay_part, rules, (history,), since, until, step) for history in ordered]
        for done, future in enumerate(as_completed(futures), start=1):
            parts.append(future.result())
            if progress is not None:
                progress(done, len(futures))
    return merge(parts)


# Comments are counted as a project with push-back's default settings would have them posted.
DEFAULT_PUSH = PushModel(
    max_per_day=DEFAULT_MAX_PER_DAY, min_severity=DEFAULT_MIN_SEVERITY, min_precision=DEFAULT_MIN_PRECISION
)


def backtest_stored(
    store: Store,
    *,
    rules: str | None,
    since: timedelta,
    until: datetime,
    step: timedelta = DEFAULT_STEP,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestReport:
    """The backtest of `rules` (a rule file's text; None: as shipped) over the window that ends at
    `until`. Raises InvalidInputError when the window holds nothing to score."""
    rule_set = backtest_rule_set(rules)
    histories = load_histories(store, now=until)
    start = until - since
    try:
        check_window(start, until, step, [entry.item.created_at for h in histories for entry in h.items])
    except BacktestError as exc:
        raise InvalidInputError(str(exc)) from exc
    played = _replay_all(
        rules,
        histories,
        since=start,
        until=until,
        step=step,
        workers=default_workers() if workers is None else workers,
        progress=progress,
    )
    labels = load_labels(store, histories)
    return score(rule_set, played, since=start, until=until, step=step, labels=labels, push=DEFAULT_PUSH)


def backtest_params(
    rules: str | None, *, since: timedelta, step: timedelta, until: datetime
) -> dict[str, Any]:
    """What a queued backtest keeps of its request: the file (if any), the window and its step."""
    return {
        "rules": rules,
        "since_s": since.total_seconds(),
        "step_s": step.total_seconds(),
        "until": until.isoformat(),
    }


def record_backtest(
    store: Store,
    report: BacktestReport,
    *,
    rules: str | None,
    since: timedelta,
    step: timedelta,
    until: datetime,
    now: datetime,
) -> int:
    """Keep a backtest run at once as a finished rule run (its id returned): the latest of the rules
    as they run is what push-back's `min_precision` is held against."""
    with transaction(store.sessions) as session:
        run = add_finished_rule_run(
            session,
            kind=RuleRunKind.BACKTEST,
            params=backtest_params(rules, since=since, step=step, until=until),
            result=report.to_json(),
            now=now,
        )
    return run.id


# The window a scheduled backtest scores.
SCHEDULED_SINCE = timedelta(days=180)


def queue_scheduled_backtest(
    session: Session, *, now: datetime, every: timedelta, max_waiting: int
) -> RuleRun | None:
    """Queue a backtest of the rules as shipped over the last `SCHEDULED_SINCE`, unless one was
    asked for within `every` (and did not fail); None when none is due or the queue is full."""
    last = latest_backtest_created_at(session)
    if last is not None and now - last < every:
        return None
    params = backtest_params(None, since=SCHEDULED_SINCE, step=DEFAULT_STEP, until=now)
    try:
        return add_rule_run(
            session, kind=RuleRunKind.BACKTEST, params=params, now=now, max_waiting=max_waiting
        )
    except TooManyRunsError:
        return None


def run_backtest(
    store: Store, params: Mapping[str, Any], *, progress: Callable[[int, int], None] | None = None
) -> BacktestReport:
    return backtest_stored(
        store,
        rules=params["rules"],
        since=timedelta(seconds=params["since_s"]),
        until=datetime.fromisoformat(params["until"]),
        step=timedelta(seconds=params["step_s"]),
        progress=progress,
    )
