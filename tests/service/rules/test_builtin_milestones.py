from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime

import pytest

from service.domain.enums import MilestoneKind, StatusCategory
from service.domain.ledger import build_milestone_commitment
from service.domain.work import Change, Milestone, WorkItem
from service.rules import (
    Facts,
    Finding,
    ItemFacts,
    MilestoneFacts,
    RuleSet,
    build_item_facts,
    build_milestone_facts,
    evaluate,
    load_rule_set,
)
from tests.support.rules import every_builtin_rule_set

Day = Callable[[int], datetime]
MakeItem = Callable[..., WorkItem]
MakeChange = Callable[..., Change]
MakeMilestone = Callable[..., Milestone]


def fired(rule_id: str, facts: Facts, now: datetime, rule_set: RuleSet | None = None) -> list[Finding]:
    return [
        f for f in evaluate(rule_set or every_builtin_rule_set(), [facts], now=now) if f.rule_id == rule_id
    ]


def on(day_of_march: int) -> datetime:
    return datetime(2026, 3, day_of_march, 12, tzinfo=UTC)


def milestone_facts(
    milestone: Milestone,
    items: Sequence[ItemFacts],
    *,
    now: datetime,
    promised_at: datetime,
    throughput: Sequence[int] | None = None,
    sprint_closes: Mapping[str, datetime] | None = None,
) -> MilestoneFacts:
    commitment = build_milestone_commitment(milestone, [], created_at=promised_at)
    return build_milestone_facts(
        milestone,
        items,
        commitment=commitment,
        as_of=now,
        sprint_closes=sprint_closes or {},
        throughput=throughput,
    )


# overdue_commitment on milestones


def test_overdue_commitment_milestone_fires(make_milestone: MakeMilestone, day: Day) -> None:
    facts = milestone_facts(make_milestone(due_date=date(2026, 3, 10)), [], now=on(12), promised_at=day(0))

    [finding] = fired("overdue_commitment", facts, on(12))

    assert finding.message == "Release 1 is 2 day(s) past its promised date 2026-03-10"


# forecast_misses_promise


def members(make_item: MakeItem, count: int, *, done: int = 0) -> list[ItemFacts]:
    items = []
    for n in range(count):
        finished = n < done
        items.append(
            build_item_facts(
                make_item(
                    id=100 + n,
                    external_id=str(100 + n),
                    key=f"P-{100 + n}",
                    milestone_external_ids=("v1",),
                    status_category=StatusCategory.DONE if finished else StatusCategory.TODO,
                    resolved_at=on(1) if finished else None,
                ),
                [],
            )
        )
    return items


def test_forecast_misses_promise_slow_pace_fires_with_dates(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    facts = milestone_facts(
        make_milestone(due_date=date(2026, 3, 20)),
        members(make_item, 20),
        now=on(2),
        promised_at=on(1),
        throughput=(1, 2, 1, 2, 1, 2),
    )

    [finding] = fired("forecast_misses_promise", facts, on(2))

    evidence = finding.evidence
    assert evidence["remaining_items"] == 20
    assert evidence["p85_date"] >= evidence["p50_date"] > "2026-03-20"
    assert evidence["forecast_date"] == evidence["p85_date"]


def test_forecast_misses_promise_fast_pace_does_not_fire(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    facts = milestone_facts(
        make_milestone(due_date=date(2026, 4, 30)),
        members(make_item, 10),
        now=on(2),
        promised_at=on(1),
        throughput=(8, 10, 9, 12),
    )

    assert fired("forecast_misses_promise", facts, on(2)) == []


def test_forecast_misses_promise_short_history_does_not_guess(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    facts = milestone_facts(
        make_milestone(due_date=date(2026, 3, 5)),
        members(make_item, 10),
        now=on(2),
        promised_at=on(1),
        throughput=(0, 1),
    )

    assert fired("forecast_misses_promise", facts, on(2)) == []


def test_forecast_misses_promise_no_throughput_fires_beyond_horizon(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    facts = milestone_facts(
        make_milestone(), members(make_item, 3), now=on(2), promised_at=on(1), throughput=(0, 0, 0, 0)
    )

    [finding] = fired("forecast_misses_promise", facts, on(2))

    assert finding.evidence["forecast_date"] == "not within 104 weeks"


def test_forecast_misses_promise_confidence_threshold_overrides(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    # 10 items at 1-5 a week: the 50% date fits a 4-week promise, the 99% date does not.
    facts = milestone_facts(
        make_milestone(due_date=date(2026, 3, 31)),
        members(make_item, 10),
        now=on(2),
        promised_at=on(1),
        throughput=(1, 5, 3, 5, 1, 5),
    )
    lenient = load_rule_set(
        "builtin:\n  forecast_misses_promise:\n    enabled: true\n    confidence: 50\n", source_name="t"
    )
    strict = load_rule_set(
        "builtin:\n  forecast_misses_promise:\n    enabled: true\n    confidence: 99\n", source_name="t"
    )

    assert fired("forecast_misses_promise", facts, on(2), lenient) == []
    assert len(fired("forecast_misses_promise", facts, on(2), strict)) == 1


# scope_added_after_promise


def test_scope_added_after_promise_fires_with_added_items(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone
) -> None:
    early = build_item_facts(make_item(id=1, external_id="1", key="P-1", milestone_external_ids=("v1",)), [])
    late_item = make_item(id=2, external_id="2", key="P-2", milestone_external_ids=("v1",))
    late = build_item_facts(late_item, [make_change("Fix Version", on(10), item="2", to_value="v1")])

    facts = milestone_facts(make_milestone(), [early, late], now=on(11), promised_at=on(5))
    [finding] = fired("scope_added_after_promise", facts, on(11))

    assert finding.evidence["added_keys"] == ["P-2"]


def test_scope_added_after_promise_before_promise_does_not_fire(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone
) -> None:
    item = make_item(milestone_external_ids=("v1",))
    facts = build_item_facts(item, [make_change("Fix Version", on(3), to_value="v1")])

    assert (
        fired(
            "scope_added_after_promise",
            milestone_facts(make_milestone(), [facts], now=on(11), promised_at=on(5)),
            on(11),
        )
        == []
    )


def test_scope_added_after_promise_min_items_threshold_overrides(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone
) -> None:
    rules = load_rule_set("builtin:\n  scope_added_after_promise:\n    min_items: 2\n", source_name="t")
    late = build_item_facts(
        make_item(milestone_external_ids=("v1",)), [make_change("Fix Version", on(10), to_value="v1")]
    )

    assert (
        fired(
            "scope_added_after_promise",
            milestone_facts(make_milestone(), [late], now=on(11), promised_at=on(5)),
            on(11),
            rules,
        )
        == []
    )


# sprint_commitment_slipping


def sprint_members(
    make_item: MakeItem, make_change: MakeChange, *, added_late: int, carried: int, done: int
) -> list[ItemFacts]:
    facts = []
    for n in range(6):
        external_id = str(200 + n)
        changes = [make_change("Sprint", on(1), item=external_id, from_value=None, to_value="12")]
        sprints: tuple[str, ...] = ("sprint:12",)
        if n < added_late:
            changes = [make_change("Sprint", on(5), item=external_id, from_value=None, to_value="12")]
        elif n < added_late + carried:
            # Sprint 11 closed at on(1) with the item open, and the item moved on to sprint 12.
            changes = [make_change("Sprint", on(1), item=external_id, from_value="11", to_value="11, 12")]
            sprints = ("sprint:11", "sprint:12")  # Jira keeps a closed sprint in the field
        finished = n >= 6 - done
        if finished:
            changes.append(
                make_change("status", on(6), item=external_id, from_display="In Progress", to_display="Done")
            )
        facts.append(
            build_item_facts(
                make_item(
                    id=200 + n,
                    external_id=external_id,
                    key=f"P-{200 + n}",
                    milestone_external_ids=sprints,
                    status="Done" if finished else "In Progress",
                    status_category=StatusCategory.DONE if finished else StatusCategory.IN_PROGRESS,
                    resolved_at=on(6) if finished else None,
                ),
                changes,
            )
        )
    return facts


SPRINT_11_CLOSED = {"sprint:11": on(1)}


def sprint(make_milestone: MakeMilestone) -> Milestone:
    return make_milestone(
        external_id="sprint:12",
        name="Sprint 12",
        kind=MilestoneKind.SPRINT,
        start_date=date(2026, 3, 2),
        due_date=date(2026, 3, 16),
    )


@pytest.mark.parametrize(
    ("added_late", "carried", "done", "today", "reasons"),
    [
        (3, 0, 6, 9, ["added_after_start"]),
        (0, 4, 6, 9, ["carried_over"]),
        (0, 0, 1, 12, ["completion_behind"]),
    ],
    ids=["scope-added", "carried-over", "behind"],
)
def test_sprint_commitment_slipping_each_signal_fires(
    make_item: MakeItem,
    make_change: MakeChange,
    make_milestone: MakeMilestone,
    added_late: int,
    carried: int,
    done: int,
    today: int,
    reasons: list[str],
) -> None:
    items = sprint_members(make_item, make_change, added_late=added_late, carried=carried, done=done)
    facts = milestone_facts(
        sprint(make_milestone), items, now=on(today), promised_at=on(1), sprint_closes=SPRINT_11_CLOSED
    )

    [finding] = fired("sprint_commitment_slipping", facts, on(today))

    assert finding.evidence["reasons"] == reasons


def test_sprint_commitment_slipping_on_track_does_not_fire(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone
) -> None:
    items = sprint_members(make_item, make_change, added_late=1, carried=1, done=4)
    facts = milestone_facts(
        sprint(make_milestone), items, now=on(12), promised_at=on(1), sprint_closes=SPRINT_11_CLOSED
    )

    assert fired("sprint_commitment_slipping", facts, on(12)) == []


def test_sprint_commitment_slipping_completed_sprint_resolves(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone
) -> None:
    items = sprint_members(make_item, make_change, added_late=3, carried=0, done=6)
    closed = dataclasses.replace(sprint(make_milestone), completed_at=on(15))

    assert (
        fired(
            "sprint_commitment_slipping",
            milestone_facts(closed, items, now=on(16), promised_at=on(1)),
            on(16),
        )
        == []
    )
