"""The built-in rule pack as shipped: each rule's subjects, defaults, message and check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.enums import FlagSubject, Severity
from service.rules.builtin import (
    BuiltinRule,
    check_blocked,
    check_due_forecast,
    check_due_soon,
    check_forecast,
    check_moved,
    check_overdue,
    check_reopened,
    check_scope,
    check_sprint,
    check_stale,
    check_unassigned,
)
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

_ITEM = frozenset({FlagSubject.ITEM})
_MILESTONE = frozenset({FlagSubject.MILESTONE})
_BOTH = frozenset({FlagSubject.ITEM, FlagSubject.MILESTONE})

BUILTIN_RULES: tuple[BuiltinRule[Any], ...] = (
    BuiltinRule(
        id="overdue_commitment",
        applies_to=_BOTH,
        params=OverdueParams(),
        severity=Severity.CRITICAL,
        push_to_jira=True,
        client_visible=True,
        message="{subject} is {days_overdue} day(s) past its promised date {promised_date}",
        evidence_keys=("promised_date", "baseline_date", "days_overdue", "slip_count"),
        check=check_overdue,
    ),
    BuiltinRule(
        id="due_soon_not_started",
        applies_to=_ITEM,
        params=DueSoonParams(),
        severity=Severity.WARNING,
        push_to_jira=True,
        client_visible=False,
        message="{subject} is due on {due_date} ({days_until_due} day(s)) and has not started",
        evidence_keys=("due_date", "days_until_due", "status"),
        check=check_due_soon,
    ),
    BuiltinRule(
        id="promised_date_moved",
        enabled=False,
        applies_to=_BOTH,
        params=MovedParams(),
        severity=Severity.WARNING,
        push_to_jira=True,
        client_visible=True,
        message=(
            "{subject}'s promised date slipped {slip_count} time(s), {slip_days} day(s) in total: "
            "first promised {baseline_date}, now {current_date}"
        ),
        evidence_keys=("baseline_date", "current_date", "slip_count", "slip_days", "move_count"),
        check=check_moved,
    ),
    BuiltinRule(
        id="forecast_misses_promise",
        enabled=False,
        applies_to=_MILESTONE,
        params=ForecastParams(),
        severity=Severity.WARNING,
        push_to_jira=True,
        client_visible=True,
        message=(
            "{subject} is forecast to finish by {forecast_date} ({confidence}% confidence), "
            "after its promised date {promised_date}"
        ),
        evidence_keys=(
            "promised_date",
            "remaining_items",
            "linear_date",
            "p50_date",
            "p85_date",
            "confidence",
            "forecast_date",
        ),
        check=check_forecast,
    ),
    BuiltinRule(
        id="forecast_misses_due_date",
        applies_to=_ITEM,
        params=DueForecastParams(),
        severity=Severity.WARNING,
        push_to_jira=True,
        client_visible=False,
        message=(
            "{subject} is due on {promised_date} ({days_to_promised_date} day(s)); of {like_items} "
            "recently finished items like it, {chance_on_time_percent}% took no longer"
        ),
        evidence_keys=(
            "promised_date",
            "days_to_promised_date",
            "days_in_progress",
            "chance_on_time_percent",
            "median_days_left_of_like_items",
            "like_items",
        ),
        check=check_due_forecast,
    ),
    BuiltinRule(
        id="stale_in_progress",
        enabled=False,
        applies_to=_ITEM,
        params=StaleParams(),
        severity=Severity.WARNING,
        push_to_jira=False,
        client_visible=False,
        message="{subject} has been in progress with no change for {days_since_activity} day(s)",
        evidence_keys=("last_activity_at", "days_since_activity", "in_progress_since", "status"),
        check=check_stale,
    ),
    BuiltinRule(
        id="blocked_too_long",
        applies_to=_ITEM,
        params=BlockedParams(),
        severity=Severity.WARNING,
        push_to_jira=True,
        client_visible=False,
        message="{subject} has been blocked for {days_blocked} day(s)",
        evidence_keys=("blocked_since", "days_blocked"),
        check=check_blocked,
    ),
    BuiltinRule(
        id="unassigned_high_priority",
        enabled=False,
        applies_to=_ITEM,
        params=UnassignedParams(),
        severity=Severity.WARNING,
        push_to_jira=True,
        client_visible=False,
        message="{subject} is {priority} priority, due {due_date}, and nobody is assigned",
        evidence_keys=("priority", "due_date", "days_until_due"),
        check=check_unassigned,
    ),
    BuiltinRule(
        id="scope_added_after_promise",
        enabled=False,
        applies_to=_MILESTONE,
        params=ScopeParams(),
        severity=Severity.WARNING,
        push_to_jira=False,
        client_visible=True,
        message="{added_count} item(s) were added to {subject} after its date was promised",
        evidence_keys=("promised_at", "promised_date", "added_count"),
        check=check_scope,
    ),
    BuiltinRule(
        id="sprint_commitment_slipping",
        applies_to=_MILESTONE,
        params=SprintParams(),
        severity=Severity.WARNING,
        push_to_jira=False,
        client_visible=False,
        message="Sprint {subject} is slipping: {summary}",
        evidence_keys=("summary", "items_at_start", "elapsed_fraction", "completed_fraction"),
        check=check_sprint,
    ),
    BuiltinRule(
        id="reopened_after_done",
        applies_to=_ITEM,
        params=ReopenedParams(),
        severity=Severity.WARNING,
        push_to_jira=True,
        client_visible=False,
        message="{subject} was reopened after it was done ({times_reopened} time(s))",
        evidence_keys=("times_reopened", "last_reopened_at"),
        check=check_reopened,
    ),
)

BUILTIN_BY_ID: Mapping[str, BuiltinRule[Any]] = {rule.id: rule for rule in BUILTIN_RULES}
