"""The backtest over stored history: the rule set in force (or a rule file over it), scored against
what the history shows happened later, with operators' verdicts on real flags as labels. Run at
once (`pmbridge rules backtest`) or as a queued rule run (`POST /admin/rules/backtest`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from service.errors import InvalidInputError
from service.flags.dryrun import load_histories
from service.flags.rulesets import load_rule_text
from service.rules import RuleSet, default_rule_set
from service.rules.backtest import BacktestError, BacktestReport, Label, SubjectKey, backtest
from service.store.runtime import Store

DEFAULT_STEP = timedelta(days=1)


def backtest_rule_set(rules: str | None) -> RuleSet:
    """The built-in rules as shipped, with a rule file's text over them when one is given."""
    if rules is None:
        return default_rule_set()
    return default_rule_set().override(load_rule_text(rules, source_name="rules"))


def load_labels(store: Store) -> Mapping[tuple[str, SubjectKey], Label]:
    """Operators' verdicts on the flags they triaged: none are stored yet."""
    return {}


def backtest_stored(
    store: Store,
    *,
    rule_set: RuleSet,
    since: timedelta,
    until: datetime,
    step: timedelta = DEFAULT_STEP,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestReport:
    """Raises InvalidInputError when the window holds nothing to score."""
    try:
        return backtest(
            rule_set,
            load_histories(store, now=until),
            since=until - since,
            until=until,
            step=step,
            labels=load_labels(store),
            progress=progress,
        )
    except BacktestError as exc:
        raise InvalidInputError(str(exc)) from exc


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


def run_backtest(
    store: Store, params: Mapping[str, Any], *, progress: Callable[[int, int], None] | None = None
) -> BacktestReport:
    return backtest_stored(
        store,
        rule_set=backtest_rule_set(params["rules"]),
        since=timedelta(seconds=params["since_s"]),
        until=datetime.fromisoformat(params["until"]),
        step=timedelta(seconds=params["step_s"]),
        progress=progress,
    )
