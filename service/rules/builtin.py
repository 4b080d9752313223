"""The built-in rule pack: each rule reads facts and thresholds and returns its evidence or None.

Evidence is JSON-able; `fingerprint_keys` name the parts of it that identify the situation (the
promised date, the moves, the items added), not the parts that only grow with the clock (days
overdue), so the Jira comment for a flag is edited when the situation changes, not every day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from service.domain.commitments import Commitment
from service.domain.enums import FlagSubject, Severity, StatusCategory, Visibility
from service.domain.work import JSON
from service.rules.context import Env
from service.rules.facts import Facts, ItemFacts, MilestoneFacts
from service.rules.forecast import forecast_completion
from service.rules.params import (
    BlockedParams,
    DueForecastParams,
    DueSoonParams,
    ForecastParams,
    MovedParams,
    OverdueParams,
    ReopenedParams,
    ScopeParams,
    SprintParams,
    StaleParams,
    UnassignedParams,
)

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Hit:
    evidence: dict[str, JSON]
    fingerprint_keys: tuple[str, ...]
    # Graded from the evidence (how late against the slack left, how likely the miss); None: the
    # rule's own severity.
    severity: Severity | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltinRule(Generic[P]):
    id: str
    applies_to: frozenset[FlagSubject]
    params: P
    severity: Severity
    push_to_jira: bool
    client_visible: bool
    message: str
    evidence_keys: tuple[str, ...]  # what a message template may name besides the context
    check: Callable[[Facts, P, Env], Hit | None]
    # Never fires on a done or gone item, so the engine skips the check for those.
    open_items_only: bool = True
    # Off unless a rule file enables it: the rules whose backtest does not earn them a place
    # (docs/BENCHMARKS.md, "Signal quality").
    enabled: bool = True


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _open_commitment(facts: Facts) -> Commitment | None:
    """The subject's promise while it is still to be kept: undelivered, with a date in force."""
    if isinstance(facts, ItemFacts):
        item = facts.item
        if item.is_done or item.visibility is not Visibility.VISIBLE:
            return None
        commitment = facts.commitment
    elif isinstance(facts, MilestoneFacts):
        if facts.milestone.released or facts.milestone.completed_at is not None:
            return None
        commitment = facts.commitment
    else:
        return None
    if commitment is None or commitment.delivered_at is not None or commitment.current_date is None:
        return None
    return commitment


# Within this many days of its promised date (or past it), work at risk has no slack left.
NO_SLACK_DAYS = 7


def _graded(critical: bool) -> Severity:
    return Severity.CRITICAL if critical else Severity.WARNING


def _slack_days(facts: ItemFacts, today: date) -> int | None:
    """Days left to the item's own promised date (negative once past); None without one."""
    c = facts.commitment
    if c is None or c.current_date is None or c.delivered_at is not None:
        return None
    return (c.current_date - today).days


def _by_slack(facts: ItemFacts, env: Env, evidence: dict[str, JSON]) -> Severity | None:
    """Critical when the item's promise is near or past, so the work at risk has no slack left."""
    slack = _slack_days(facts, env.today)
    if slack is None:
        return None
    evidence["days_to_promised_date"] = slack
    return _graded(slack <= NO_SLACK_DAYS)


def _open_item(facts: Facts) -> ItemFacts | None:
    if not isinstance(facts, ItemFacts):
        return None
    if facts.item.is_done or facts.item.visibility is not Visibility.VISIBLE:
        return None
    return facts


def check_overdue(facts: Facts, p: OverdueParams, env: Env) -> Hit | None:
    c = _open_commitment(facts)
    if c is None or c.current_date is None:
        return None
    days = (env.today - c.current_date).days
    if days <= p.grace_days:
        return None
    evidence: dict[str, JSON] = {
        "promised_date": _iso(c.current_date),
        "baseline_date": _iso(c.baseline_date),
        "days_overdue": days,
        "slip_count": c.slip_count,
        "thresholds": {"grace_days": p.grace_days},
    }
    return Hit(evidence, ("promised_date",), _graded(days > NO_SLACK_DAYS))


def check_due_soon(facts: Facts, p: DueSoonParams, env: Env) -> Hit | None:
    f = _open_item(facts)
    if f is None or f.item.status_category is not StatusCategory.TODO or f.item.due_date is None:
        return None
    days = (f.item.due_date - env.today).days
    if not 0 <= days <= p.days_before:
        return None
    evidence: dict[str, JSON] = {
        "due_date": _iso(f.item.due_date),
        "days_until_due": days,
        "status": f.item.status,
        "thresholds": {"days_before": p.days_before},
    }
    return Hit(evidence, ("due_date", "status"))


@dataclass(frozen=True, slots=True, kw_only=True)
class OnTimeChance:
    chance: float  # the share of like items that finished within the days left
    days_left: int
    days_in_progress: float
    like_items: int
    median_days_left: float  # of the like items, from this item's age in progress


def chance_on_time(f: ItemFacts, promised: date, env: Env, *, min_samples: int) -> OnTimeChance | None:
    """How likely an open item is to be done by the end of `promised`, judged by how long its
    project's recently finished items took (`Env.cycle_days`): of those still open at this item's age
    in progress (all of them, for an item not started), the share that finished within the days it
    has left. None past the date, for an item neither to do nor in progress, or with fewer than
    `min_samples` like items."""
    left = (promised - env.today).days
    if left < 0:
        return None  # past its date: overdue_commitment's business
    samples = env.cycle_days.get((f.item.source_id, f.item.project_external_id), ())
    age = 0.0
    if f.item.status_category is StatusCategory.IN_PROGRESS and f.in_progress_since is not None:
        age = max((env.now - f.in_progress_since).total_seconds() / 86_400, 0.0)
    elif f.item.status_category is not StatusCategory.TODO:
        return None
    # The samples are sorted: those past this age are a tail, those done in time a slice of it.
    past_age = bisect_right(samples, age)
    like = len(samples) - past_age
    if like < min_samples:
        return None
    # Done by the end of its date: the rest of today plus `left` whole days.
    chance = (bisect_right(samples, age + left + 1) - past_age) / like
    return OnTimeChance(
        chance=chance,
        days_left=left,
        days_in_progress=age,
        like_items=like,
        median_days_left=samples[past_age + like // 2] - age,
    )


def check_due_forecast(facts: Facts, p: DueForecastParams, env: Env) -> Hit | None:
    """An open item whose own date is more likely than not to pass before it is done
    (`chance_on_time`)."""
    f = _open_item(facts)
    c = _open_commitment(facts)
    if f is None or c is None or c.current_date is None:
        return None
    found = chance_on_time(f, c.current_date, env, min_samples=p.min_samples)
    if found is None or found.chance >= p.min_chance_on_time:
        return None
    chance, age, like = found.chance, found.days_in_progress, found.like_items
    evidence: dict[str, JSON] = {
        "promised_date": _iso(c.current_date),
        "days_to_promised_date": found.days_left,
        "days_in_progress": round(age, 1),
        "chance_on_time_percent": round(chance * 100),
        "median_days_left_of_like_items": round(found.median_days_left, 1),
        "like_items": like,
        "thresholds": {
            "min_chance_on_time": p.min_chance_on_time,
            "critical_below": p.critical_below,
            "min_samples": p.min_samples,
        },
    }
    return Hit(evidence, ("promised_date",), _graded(chance < p.critical_below))


def check_moved(facts: Facts, p: MovedParams, env: Env) -> Hit | None:
    c = _open_commitment(facts)
    if c is None or c.slip_count == 0:
        return None
    if c.slip_count < p.min_moves and c.slip_days < p.min_total_days:
        return None
    moves: list[JSON] = [
        {
            "moved_at": _iso(m.moved_at),
            "moved_by": m.moved_by,
            "from": _iso(m.from_date),
            "to": _iso(m.to_date),
            "days": m.days,
            "change": m.change_external_id,
        }
        for m in c.moves
    ]
    evidence: dict[str, JSON] = {
        "baseline_date": _iso(c.baseline_date),
        "current_date": _iso(c.current_date),
        "slip_count": c.slip_count,
        "slip_days": c.slip_days,
        "move_count": len(c.moves),
        "moves": moves,
        "thresholds": {"min_moves": p.min_moves, "min_total_days": p.min_total_days},
    }
    return Hit(evidence, ("current_date", "move_count"), _graded(c.slip_days >= 2 * NO_SLACK_DAYS))


def check_forecast(facts: Facts, p: ForecastParams, env: Env) -> Hit | None:
    c = _open_commitment(facts)
    if not isinstance(facts, MilestoneFacts) or c is None or c.current_date is None:
        return None
    remaining = facts.items_open
    history = facts.weekly_throughput[-p.weeks_of_history :]
    if remaining <= 0 or len(history) < p.min_history_weeks:
        return None
    forecast = forecast_completion(remaining, history, trials=p.trials, seed=p.seed, max_weeks=p.max_weeks)
    at_confidence = forecast.date_at(p.confidence, env.today)
    if at_confidence is not None and at_confidence <= c.current_date:
        return None
    evidence: dict[str, JSON] = {
        "promised_date": _iso(c.current_date),
        "remaining_items": remaining,
        "weekly_throughput": list(history),
        "mean_weekly_throughput": round(forecast.mean_weekly_throughput, 3),
        "linear_date": _iso(forecast.linear_date(env.today)),
        "p50_date": _iso(forecast.date_at(50, env.today)),
        "p85_date": _iso(forecast.date_at(85, env.today)),
        "confidence": p.confidence,
        "forecast_date": _iso(at_confidence) or f"not within {p.max_weeks} weeks",
        "thresholds": {"confidence": p.confidence, "trials": p.trials, "seed": p.seed},
    }
    # More likely than not to miss: even the median finish is after the promised date.
    p50 = forecast.date_at(50, env.today)
    return Hit(evidence, ("promised_date", "forecast_date"), _graded(p50 is None or p50 > c.current_date))


def check_stale(facts: Facts, p: StaleParams, env: Env) -> Hit | None:
    f = _open_item(facts)
    if f is None or f.item.status_category is not StatusCategory.IN_PROGRESS:
        return None
    if p.ignore_blocked and f.item.blocked:
        return None
    days = (env.now - f.last_activity_at).days
    if days < p.days:
        return None
    evidence: dict[str, JSON] = {
        "last_activity_at": _iso(f.last_activity_at),
        "days_since_activity": days,
        "in_progress_since": _iso(f.in_progress_since),
        "status": f.item.status,
        "thresholds": {"days": p.days},
    }
    return Hit(evidence, ("last_activity_at",), _by_slack(f, env, evidence))


def check_blocked(facts: Facts, p: BlockedParams, env: Env) -> Hit | None:
    f = _open_item(facts)
    if f is None or not f.item.blocked or f.blocked_since is None:
        return None
    days = (env.now - f.blocked_since).days
    if days < p.days:
        return None
    evidence: dict[str, JSON] = {
        "blocked_since": _iso(f.blocked_since),
        "days_blocked": days,
        "thresholds": {"days": p.days},
    }
    return Hit(evidence, ("blocked_since",), _by_slack(f, env, evidence))


def check_unassigned(facts: Facts, p: UnassignedParams, env: Env) -> Hit | None:
    f = _open_item(facts)
    if f is None or f.item.assignee is not None or f.item.due_date is None:
        return None
    if f.item.priority.value not in p.priorities:
        return None
    days = (f.item.due_date - env.today).days
    if days > p.days_before:
        return None
    evidence: dict[str, JSON] = {
        "priority": f.item.priority.value,
        "due_date": _iso(f.item.due_date),
        "days_until_due": days,
        "thresholds": {"days_before": p.days_before, "priorities": list(p.priorities)},
    }
    return Hit(evidence, ("priority", "due_date"), _graded(days <= 2))


def check_scope(facts: Facts, p: ScopeParams, env: Env) -> Hit | None:
    c = _open_commitment(facts)
    if not isinstance(facts, MilestoneFacts) or c is None:
        return None
    added = facts.scope_added_after_promise
    if len(added) < p.min_items:
        return None
    evidence: dict[str, JSON] = {
        "promised_at": _iso(c.promised_at),
        "promised_date": _iso(c.current_date),
        "added_count": len(added),
        "added": [{"item": a.item_key, "added_at": _iso(a.added_at)} for a in added],
        "added_keys": sorted(a.item_key for a in added),
        "share_of_scope": round(len(added) / facts.items_total, 3) if facts.items_total else 1.0,
        "thresholds": {"min_items": p.min_items},
    }
    return Hit(evidence, ("added_keys",), _graded(len(added) * 4 >= max(facts.items_total, 1)))


def check_sprint(facts: Facts, p: SprintParams, env: Env) -> Hit | None:
    if not isinstance(facts, MilestoneFacts) or facts.sprint is None:
        return None
    if facts.milestone.completed_at is not None or facts.milestone.released:
        return None
    sprint = facts.sprint
    elapsed = sprint.elapsed_fraction(env.today)
    done = facts.items_done / facts.items_total if facts.items_total else 1.0
    reasons: list[str] = []
    if len(sprint.added_after_start) > p.max_added_after_start:
        reasons.append("added_after_start")
    if len(sprint.carried_over) > p.max_carried_over:
        reasons.append("carried_over")
    if elapsed >= p.min_elapsed and elapsed - done > p.max_completion_lag:
        reasons.append("completion_behind")
    if not reasons:
        return None
    evidence: dict[str, JSON] = {
        "reasons": reasons,
        "summary": ", ".join(r.replace("_", " ") for r in reasons),
        "added_after_start": [a.item_key for a in sprint.added_after_start],
        "carried_over": list(sprint.carried_over),
        "items_at_start": len(sprint.items_at_start),
        "elapsed_fraction": round(elapsed, 3),
        "completed_fraction": round(done, 3),
        "thresholds": {
            "max_added_after_start": p.max_added_after_start,
            "max_carried_over": p.max_carried_over,
            "max_completion_lag": p.max_completion_lag,
            "min_elapsed": p.min_elapsed,
        },
    }
    behind = elapsed - done > 2 * p.max_completion_lag
    return Hit(evidence, ("reasons", "added_after_start", "carried_over"), _graded(behind))


def check_reopened(facts: Facts, p: ReopenedParams, env: Env) -> Hit | None:
    f = _open_item(facts)
    if f is None or f.times_reopened < p.min_reopens:
        return None
    evidence: dict[str, JSON] = {
        "times_reopened": f.times_reopened,
        "last_reopened_at": _iso(f.last_reopened_at),
        "thresholds": {"min_reopens": p.min_reopens},
    }
    return Hit(evidence, ("times_reopened", "last_reopened_at"))
