"""A project's push-back settings: parsed and checked, their defaults, the local day and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.domain.enums import Severity
from service.errors import UnprocessableInputError
from service.flags.push_policy import PushPolicy


def test_push_policy_of_empty_settings_is_off_with_the_default_budget() -> None:
    policy = PushPolicy.of({})

    assert policy.to_settings() == {
        "enabled": False,
        "dry_run": False,
        "max_per_day": 5,
        "quiet_hours": None,
        "timezone": "UTC",
        "min_severity": "warning",
        "min_precision": 0.8,
    }


def test_push_policy_of_unparseable_stored_values_falls_back_to_defaults() -> None:
    policy = PushPolicy.of(
        {"enabled": True, "max_per_day": "many", "timezone": "Mars/Olympus", "quiet_hours": "x"}
    )

    assert (policy.enabled, policy.max_per_day, policy.timezone, policy.quiet_hours) == (True, 5, "UTC", None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quiet_hours": "22:00"}, "quiet_hours"),
        ({"quiet_hours": "25:00-07:00"}, "quiet_hours"),
        ({"quiet_hours": "07:00-07:00"}, "quiet_hours"),
        ({"timezone": "Europe/Nowhere"}, "timezone"),
        ({"min_severity": "urgent"}, "min_severity"),
        ({"max_per_day": -1}, "max_per_day"),
        ({"min_precision": 1.5}, "min_precision"),
        ({"min_precision": True}, "min_precision"),
    ],
    ids=[
        "no-end",
        "bad-hour",
        "empty-span",
        "unknown-zone",
        "unknown-severity",
        "negative-budget",
        "precision-over-one",
        "precision-not-a-number",
    ],
)
def test_push_policy_with_changes_refuses_bad_settings_naming_the_field(
    change: dict[str, object], field: str
) -> None:
    with pytest.raises(UnprocessableInputError) as refused:
        PushPolicy().with_changes(**change)  # type: ignore[arg-type]

    assert refused.value.details["field"] == field


def test_push_policy_with_changes_keeps_what_is_not_given_and_none_clears_quiet_hours() -> None:
    policy = PushPolicy().with_changes(max_per_day=2, quiet_hours="22:00-07:00", timezone="Europe/Paris")

    cleared = policy.with_changes(min_severity="critical", quiet_hours="none", min_precision=0.9)

    assert (cleared.max_per_day, cleared.timezone, cleared.min_severity, cleared.min_precision) == (
        2,
        "Europe/Paris",
        Severity.CRITICAL,
        0.9,
    )
    assert PushPolicy.of(cleared.to_settings()) == cleared
    assert (policy.quiet_hours_text, cleared.quiet_hours) == ("22:00-07:00", None)
    assert PushPolicy.of(policy.to_settings()) == policy


@pytest.mark.parametrize(
    ("at", "until"),
    [
        (datetime(2026, 12, 7, 21, 30, tzinfo=UTC), datetime(2026, 12, 8, 6, 0, tzinfo=UTC)),  # 22:30 Paris
        (datetime(2026, 12, 8, 5, 0, tzinfo=UTC), datetime(2026, 12, 8, 6, 0, tzinfo=UTC)),  # 06:00 Paris
        (datetime(2026, 12, 8, 6, 0, tzinfo=UTC), None),  # 07:00 Paris: over
        (datetime(2026, 12, 7, 12, 0, tzinfo=UTC), None),
    ],
    ids=["evening", "early-morning", "end", "midday"],
)
def test_push_policy_quiet_until_spans_midnight_in_the_local_zone(
    at: datetime, until: datetime | None
) -> None:
    policy = PushPolicy().with_changes(quiet_hours="22:00-07:00", timezone="Europe/Paris")

    assert policy.quiet_until(at) == until


def test_push_policy_day_of_is_the_local_day() -> None:
    policy = PushPolicy().with_changes(timezone="America/New_York")

    start, end = policy.day_of(datetime(2026, 12, 8, 3, 0, tzinfo=UTC))  # 22:00 on the 7th in New York

    assert (start.astimezone(UTC), end.astimezone(UTC)) == (
        datetime(2026, 12, 7, 5, 0, tzinfo=UTC),
        datetime(2026, 12, 8, 5, 0, tzinfo=UTC),
    )


def test_push_policy_admits_its_minimum_severity_and_above() -> None:
    policy = PushPolicy()

    assert [policy.admits(s) for s in Severity] == [False, True, True]


def test_push_policy_trusts_rules_at_its_minimum_precision_and_those_with_none_on_record() -> None:
    policy = PushPolicy().with_changes(min_precision=0.8)

    assert [policy.trusts(p) for p in (0.79, 0.8, 1.0, None)] == [False, True, True, True]
