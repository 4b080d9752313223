from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from service.domain.enums import ActivityKind, Priority, Severity, StatusCategory, Visibility
from service.domain.work import Activity, Change, WorkItem
from service.rules import (
    Facts,
    Finding,
    RuleSet,
    build_item_facts,
    default_rule_set,
    evaluate,
    load_rule_set,
)
from tests.support.rules import every_builtin_rule_set

Day = Callable[[int], datetime]
MakeItem = Callable[..., WorkItem]
MakeChange = Callable[..., Change]
MakeActivity = Callable[..., Activity]


def fired(rule_id: str, facts: Facts, now: datetime, rule_set: RuleSet | None = None) -> list[Finding]:
    return [
        f for f in evaluate(rule_set or every_builtin_rule_set(), [facts], now=now) if f.rule_id == rule_id
    ]


def on(day_of_march: int) -> datetime:
    return datetime(2026, 3, day_of_march, 12, tzinfo=UTC)


# overdue_commitment


def test_overdue_commitment_past_date_fires_with_days(make_item: MakeItem) -> None:
    facts = build_item_facts(make_item(due_date=date(2026, 3, 20)), [])

    [finding] = fired("overdue_commitment", facts, on(23))

    # Graded by how late: a few days is a warning, more than a week critical.
    assert finding.severity is Severity.WARNING
    assert finding.evidence["days_overdue"] == 3
    assert finding.message == "P-1 is 3 day(s) past its promised date 2026-03-20"
    [later] = fired("overdue_commitment", facts, on(28))
    assert later.severity is Severity.CRITICAL


def test_overdue_commitment_on_the_date_does_not_fire(make_item: MakeItem) -> None:
    assert (
        fired("overdue_commitment", build_item_facts(make_item(due_date=date(2026, 3, 20)), []), on(20)) == []
    )


def test_overdue_commitment_delivered_item_resolves(make_item: MakeItem) -> None:
    done = make_item(status="Done", status_category=StatusCategory.DONE, resolved_at=on(22))

    assert fired("overdue_commitment", build_item_facts(done, []), on(23)) == []


def test_overdue_commitment_grace_days_threshold_overrides(make_item: MakeItem) -> None:
    rules = load_rule_set("builtin:\n  overdue_commitment:\n    grace_days: 5\n", source_name="t")
    facts = build_item_facts(make_item(due_date=date(2026, 3, 20)), [])

    assert fired("overdue_commitment", facts, on(25), rules) == []
    assert len(fired("overdue_commitment", facts, on(26), rules)) == 1


# due_soon_not_started


def test_due_soon_not_started_todo_within_window_fires(make_item: MakeItem) -> None:
    todo = make_item(status="To Do", status_category=StatusCategory.TODO, due_date=date(2026, 3, 20))

    [finding] = fired("due_soon_not_started", build_item_facts(todo, []), on(18))

    assert finding.evidence["days_until_due"] == 2


@pytest.mark.parametrize(
    ("category", "today"),
    [(StatusCategory.IN_PROGRESS, 18), (StatusCategory.TODO, 10), (StatusCategory.TODO, 21)],
    ids=["started", "far-away", "already-overdue"],
)
def test_due_soon_not_started_outside_condition_does_not_fire(
    make_item: MakeItem, category: StatusCategory, today: int
) -> None:
    facts = build_item_facts(make_item(status_category=category, due_date=date(2026, 3, 20)), [])

    assert fired("due_soon_not_started", facts, on(today)) == []


def test_due_soon_not_started_days_before_threshold_overrides(make_item: MakeItem) -> None:
    rules = load_rule_set("builtin:\n  due_soon_not_started:\n    days_before: 10\n", source_name="t")
    todo = make_item(status_category=StatusCategory.TODO, due_date=date(2026, 3, 20))

    assert len(fired("due_soon_not_started", build_item_facts(todo, []), on(10), rules)) == 1


# promised_date_moved


def moves(make_change: MakeChange, day: Day, *dates: str) -> list[Change]:
    changes = [make_change("promised_date", day(0), from_value=None, to_value=dates[0])]
    for n, (before, after) in enumerate(itertools.pairwise(dates), start=1):
        changes.append(make_change("promised_date", day(n), from_value=before, to_value=after))
    return changes


def test_promised_date_moved_two_slips_fire_with_moves(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = moves(make_change, day, "2026-03-10", "2026-03-12", "2026-03-15")
    facts = build_item_facts(make_item(due_date=date(2026, 3, 15)), changes)

    [finding] = fired("promised_date_moved", facts, on(9))

    assert (finding.evidence["slip_count"], finding.evidence["slip_days"]) == (2, 5)
    assert [m["to"] for m in finding.evidence["moves"]] == ["2026-03-12", "2026-03-15"]


def test_promised_date_moved_one_small_slip_does_not_fire(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    facts = build_item_facts(
        make_item(due_date=date(2026, 3, 12)), moves(make_change, day, "2026-03-10", "2026-03-12")
    )

    assert fired("promised_date_moved", facts, on(9)) == []


def test_promised_date_moved_one_long_slip_fires_on_total_days(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    facts = build_item_facts(
        make_item(due_date=date(2026, 3, 30)), moves(make_change, day, "2026-03-10", "2026-03-30")
    )

    assert len(fired("promised_date_moved", facts, on(9))) == 1


def test_promised_date_moved_thresholds_override(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    rules = load_rule_set(
        "builtin:\n  promised_date_moved:\n    enabled: true\n    min_moves: 1\n    min_total_days: 100\n",
        source_name="t",
    )
    facts = build_item_facts(
        make_item(due_date=date(2026, 3, 12)), moves(make_change, day, "2026-03-10", "2026-03-12")
    )

    assert len(fired("promised_date_moved", facts, on(9), rules)) == 1


# stale_in_progress


def test_stale_in_progress_no_change_for_days_fires(make_item: MakeItem) -> None:
    facts = build_item_facts(make_item(created_at=on(2), updated_at=on(2)), [])

    [finding] = fired("stale_in_progress", facts, on(8))

    assert finding.evidence["days_since_activity"] == 6


def test_stale_in_progress_is_graded_by_the_slack_left_on_its_promise(make_item: MakeItem) -> None:
    near = build_item_facts(make_item(created_at=on(2), updated_at=on(2), due_date=date(2026, 3, 12)), [])
    far = build_item_facts(make_item(created_at=on(2), updated_at=on(2), due_date=date(2026, 4, 30)), [])
    unpromised = build_item_facts(make_item(created_at=on(2), updated_at=on(2), due_date=None), [])

    [at_risk] = fired("stale_in_progress", near, on(8))
    [roomy] = fired("stale_in_progress", far, on(8))
    [plain] = fired("stale_in_progress", unpromised, on(8))

    assert (at_risk.severity, at_risk.evidence["days_to_promised_date"]) == (Severity.CRITICAL, 4)
    assert (roomy.severity, roomy.evidence["days_to_promised_date"]) == (Severity.WARNING, 53)
    assert plain.severity is Severity.WARNING
    assert "days_to_promised_date" not in plain.evidence


def test_stale_in_progress_recent_change_resolves(make_item: MakeItem, make_change: MakeChange) -> None:
    facts = build_item_facts(make_item(created_at=on(2)), [make_change("assignee", on(7), to_value="u2")])

    assert fired("stale_in_progress", facts, on(8)) == []


@pytest.mark.parametrize(
    "kind",
    [ActivityKind.COMMENT, ActivityKind.CHECKLIST, ActivityKind.MEMBERS, ActivityKind.EDITED],
    ids=["comment", "checklist", "members", "edited"],
)
def test_stale_in_progress_recent_activity_resolves(
    make_item: MakeItem, make_activity: MakeActivity, kind: ActivityKind
) -> None:
    facts = build_item_facts(make_item(created_at=on(2)), [], activity=[make_activity(on(7), kind=kind)])

    assert fired("stale_in_progress", facts, on(8)) == []


def test_stale_in_progress_comment_edited_lately_resolves(
    make_item: MakeItem, make_activity: MakeActivity
) -> None:
    facts = build_item_facts(make_item(created_at=on(1)), [], activity=[make_activity(on(2), edited=on(7))])

    assert fired("stale_in_progress", facts, on(8)) == []


def test_stale_in_progress_provider_updated_stamp_alone_still_fires(make_item: MakeItem) -> None:
    # A provider moves its "updated" stamp for pmbridge's own flag comments too: not a sign of work.
    facts = build_item_facts(make_item(created_at=on(2), updated_at=on(7)), [])

    [finding] = fired("stale_in_progress", facts, on(8))

    assert finding.evidence["last_activity_at"] == on(2).isoformat()


def test_stale_in_progress_blocked_item_left_to_blocked_rule(make_item: MakeItem) -> None:
    facts = build_item_facts(make_item(created_at=on(2), blocked=True), [])

    assert fired("stale_in_progress", facts, on(20)) == []


def test_stale_in_progress_days_threshold_overrides(make_item: MakeItem) -> None:
    rules = load_rule_set("builtin:\n  stale_in_progress:\n    days: 10\n", source_name="t")

    assert fired("stale_in_progress", build_item_facts(make_item(created_at=on(2)), []), on(8), rules) == []


# blocked_too_long


def test_blocked_too_long_fires_after_days(make_item: MakeItem, make_change: MakeChange) -> None:
    facts = build_item_facts(make_item(blocked=True), [make_change("Flagged", on(3), to_value="Impediment")])

    [finding] = fired("blocked_too_long", facts, on(7))

    assert finding.evidence["blocked_since"] == on(3).isoformat()


def test_blocked_too_long_unblocked_resolves(make_item: MakeItem, make_change: MakeChange) -> None:
    changes = [
        make_change("Flagged", on(3), to_value="Impediment"),
        make_change("Flagged", on(6), from_value="Impediment", to_value=None),
    ]

    assert fired("blocked_too_long", build_item_facts(make_item(blocked=False), changes), on(9)) == []


def test_blocked_too_long_days_threshold_overrides(make_item: MakeItem, make_change: MakeChange) -> None:
    rules = load_rule_set("builtin:\n  blocked_too_long:\n    days: 1\n", source_name="t")
    facts = build_item_facts(make_item(blocked=True), [make_change("Flagged", on(3), to_value="Impediment")])

    assert len(fired("blocked_too_long", facts, on(4), rules)) == 1


# unassigned_high_priority


def test_unassigned_high_priority_near_date_fires(make_item: MakeItem) -> None:
    facts = build_item_facts(
        make_item(assignee=None, priority=Priority.HIGHEST, due_date=date(2026, 3, 20)), []
    )

    assert len(fired("unassigned_high_priority", facts, on(17))) == 1


@pytest.mark.parametrize(
    ("priority", "assigned", "today"),
    [(Priority.MEDIUM, False, 17), (Priority.HIGH, True, 17), (Priority.HIGH, False, 5)],
    ids=["medium-priority", "assigned", "date-far"],
)
def test_unassigned_high_priority_outside_condition_does_not_fire(
    make_item: MakeItem, priority: Priority, assigned: bool, today: int
) -> None:
    item = make_item(priority=priority, due_date=date(2026, 3, 20))
    if not assigned:
        item = make_item(priority=priority, due_date=date(2026, 3, 20), assignee=None)

    assert fired("unassigned_high_priority", build_item_facts(item, []), on(today)) == []


def test_unassigned_high_priority_priorities_threshold_overrides(make_item: MakeItem) -> None:
    rules = load_rule_set(
        "builtin:\n  unassigned_high_priority:\n    enabled: true\n    priorities: [medium]\n",
        source_name="t",
    )
    facts = build_item_facts(
        make_item(assignee=None, priority=Priority.MEDIUM, due_date=date(2026, 3, 20)), []
    )

    assert len(fired("unassigned_high_priority", facts, on(17), rules)) == 1


# reopened_after_done


def test_reopened_after_done_open_item_fires(make_item: MakeItem, make_change: MakeChange) -> None:
    changes = [
        make_change("status", on(3), from_display="In Progress", to_display="Done"),
        make_change("status", on(4), from_display="Done", to_display="In Progress"),
    ]

    [finding] = fired("reopened_after_done", build_item_facts(make_item(updated_at=on(4)), changes), on(5))

    assert finding.evidence["times_reopened"] == 1


def test_reopened_after_done_done_again_resolves(make_item: MakeItem, make_change: MakeChange) -> None:
    changes = [
        make_change("status", on(3), from_display="In Progress", to_display="Done"),
        make_change("status", on(4), from_display="Done", to_display="In Progress"),
        make_change("status", on(5), from_display="In Progress", to_display="Done"),
    ]
    done = make_item(status="Done", status_category=StatusCategory.DONE, resolved_at=on(5))

    assert fired("reopened_after_done", build_item_facts(done, changes), on(6)) == []


def test_reopened_after_done_min_reopens_threshold_overrides(
    make_item: MakeItem, make_change: MakeChange
) -> None:
    rules = load_rule_set("builtin:\n  reopened_after_done:\n    min_reopens: 2\n", source_name="t")
    changes = [
        make_change("status", on(3), from_display="In Progress", to_display="Done"),
        make_change("status", on(4), from_display="Done", to_display="In Progress"),
    ]

    assert fired("reopened_after_done", build_item_facts(make_item(), changes), on(5), rules) == []


def test_builtin_disabled_rule_never_fires(make_item: MakeItem) -> None:
    rules = load_rule_set("builtin:\n  overdue_commitment:\n    enabled: false\n", source_name="t")

    assert (
        fired("overdue_commitment", build_item_facts(make_item(due_date=date(2026, 3, 1)), []), on(20), rules)
        == []
    )


def test_builtin_gone_item_never_fires(make_item: MakeItem) -> None:
    gone = make_item(due_date=date(2026, 3, 1), visibility=Visibility.DELETED, updated_at=on(1))

    assert evaluate(default_rule_set(), [build_item_facts(gone, [])], now=on(20)) == []


# forecast_misses_due_date


def _done_in(make_item: MakeItem, project: str, count: int, *, cycle_days: int) -> list[Facts]:
    """`count` items of `project` done between March 1 and 9, each `cycle_days` in progress."""
    done: list[Facts] = []
    for n in range(count):
        finished = on(1 + n % 9)
        item = make_item(
            id=100 + n,
            key=f"{project}-{100 + n}",
            external_id=f"{project}{100 + n}",
            project_external_id=project,
            status="Done",
            status_category=StatusCategory.DONE,
        )
        done.append(
            dataclasses.replace(
                build_item_facts(item, []),
                started_at=finished - timedelta(days=cycle_days),
                done_at=finished,
            )
        )
    return done


def _in_progress(make_item: MakeItem, key: str, due: date, since: datetime) -> Facts:
    item = make_item(key=key, external_id=key, due_date=due, created_at=since, updated_at=since)
    return dataclasses.replace(build_item_facts(item, []), in_progress_since=since)


def test_forecast_misses_due_date_from_how_long_like_items_took(make_item: MakeItem) -> None:
    history = _done_in(make_item, "P", 10, cycle_days=10)
    # Two days in, three days left: like items needed eight more. Fifteen days left: enough.
    tight = _in_progress(make_item, "P-1", date(2026, 3, 13), on(8))
    roomy = _in_progress(make_item, "P-2", date(2026, 3, 25), on(8))

    findings = [
        f
        for f in evaluate(default_rule_set(), [*history, tight, roomy], now=on(10), group=False)
        if f.rule_id == "forecast_misses_due_date"
    ]

    [finding] = findings
    assert finding.subject.key == "P-1"
    assert finding.severity is Severity.CRITICAL
    assert {
        k: finding.evidence[k] for k in ("chance_on_time_percent", "like_items", "days_to_promised_date")
    } == {
        "chance_on_time_percent": 0,
        "like_items": 10,
        "days_to_promised_date": 3,
    }
    assert finding.evidence["median_days_left_of_like_items"] == 8.0


def test_forecast_misses_due_date_needs_enough_like_items_of_its_own_project(make_item: MakeItem) -> None:
    few = _done_in(make_item, "P", 5, cycle_days=10)
    elsewhere = _done_in(make_item, "Q", 10, cycle_days=10)
    tight = _in_progress(make_item, "P-1", date(2026, 3, 13), on(8))
    # Items done longer ago than they have been in progress say nothing of this one's remaining time.
    shorter = _done_in(make_item, "R", 10, cycle_days=1)
    tight_r = dataclasses.replace(
        _in_progress(make_item, "R-1", date(2026, 3, 13), on(8)),
        item=make_item(key="R-1", external_id="R-1", project_external_id="R", due_date=date(2026, 3, 13)),
    )

    findings = evaluate(
        default_rule_set(), [*few, *elsewhere, *shorter, tight, tight_r], now=on(10), group=False
    )

    assert [f for f in findings if f.rule_id == "forecast_misses_due_date"] == []
