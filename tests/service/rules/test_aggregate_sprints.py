"""Sprint facts: who was in a sprint at its start, who was added after it, who was carried over,
read from the Sprint field's changelog as Jira records it (bare sprint ids)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from service.domain.enums import MilestoneKind, StatusCategory
from service.domain.work import Change, Milestone, WorkItem
from service.rules import build_item_facts, build_milestone_facts, sprint_closes
from service.rules.facts import SprintFacts

MakeItem = Callable[..., WorkItem]
MakeChange = Callable[..., Change]
MakeMilestone = Callable[..., Milestone]

LONG_AGO = datetime(2026, 1, 5, 9, tzinfo=UTC)
S11_START = datetime(2026, 2, 2, 10, tzinfo=UTC)
S11_CLOSE = datetime(2026, 2, 16, 17, tzinfo=UTC)
S12_START = datetime(2026, 2, 17, 10, tzinfo=UTC)
NOW = datetime(2026, 2, 24, 12, tzinfo=UTC)


def sprints(make_milestone: MakeMilestone) -> list[Milestone]:
    return [
        make_milestone(
            external_id="sprint:11",
            name="Sprint 11",
            kind=MilestoneKind.SPRINT,
            start_date=S11_START.date(),
            started_at=S11_START,
            due_date=date(2026, 2, 16),
            completed_at=S11_CLOSE,
            released=True,
            state="closed",
        ),
        make_milestone(
            external_id="sprint:12",
            name="Sprint 12",
            kind=MilestoneKind.SPRINT,
            start_date=S12_START.date(),
            started_at=S12_START,
            due_date=date(2026, 3, 2),
            state="active",
        ),
    ]


def facts_of(
    make_item: MakeItem,
    make_milestone: MakeMilestone,
    key: str,
    sprint_ids: tuple[str, ...],
    changes: Sequence[Change],
    *,
    done: bool = False,
) -> dict[str, SprintFacts]:
    item = make_item(
        external_id="10001",
        key=key,
        created_at=LONG_AGO,
        milestone_external_ids=sprint_ids,
        status="Done" if done else "In Progress",
        status_category=StatusCategory.DONE if done else StatusCategory.IN_PROGRESS,
    )
    facts = build_item_facts(item, changes)
    milestones = sprints(make_milestone)
    closes = sprint_closes(milestones)
    found = {}
    for milestone in milestones:
        built = build_milestone_facts(milestone, [facts], commitment=None, as_of=NOW, sprint_closes=closes)
        assert built.sprint is not None
        found[milestone.external_id] = built.sprint
    return found


def test_an_old_item_added_after_the_start_is_added_after_start(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone
) -> None:
    added = S12_START + timedelta(days=2)
    changes = [make_change("Sprint", added, from_value=None, to_value="12")]

    s12 = facts_of(make_item, make_milestone, "P-1", ("sprint:12",), changes)["sprint:12"]

    assert [(a.item_key, a.added_at) for a in s12.added_after_start] == [("P-1", added)]
    assert s12.items_at_start == ()


@pytest.mark.parametrize(
    "joined",
    [S12_START - timedelta(days=20), S12_START - timedelta(hours=1)],
    ids=["weeks-before", "the-morning-of-the-start"],
)
def test_an_item_in_the_sprint_at_its_start_is_not_added_after_start(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone, joined: datetime
) -> None:
    changes = [make_change("Sprint", joined, from_value=None, to_value="12")]

    s12 = facts_of(make_item, make_milestone, "P-1", ("sprint:12",), changes)["sprint:12"]

    assert (s12.items_at_start, s12.added_after_start) == (("P-1",), ())


def test_an_item_created_in_the_sprint_after_its_start_is_added_at_its_creation(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    milestones = sprints(make_milestone)
    created = S12_START + timedelta(days=1)
    item = make_item(created_at=created, milestone_external_ids=("sprint:12",))

    built = build_milestone_facts(
        milestones[1], [build_item_facts(item, [])], commitment=None, as_of=NOW, sprint_closes={}
    )

    assert built.sprint is not None
    assert [(a.item_key, a.added_at) for a in built.sprint.added_after_start] == [(item.key, created)]


def test_an_item_open_when_its_sprint_closed_and_moved_on_is_carried_over(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone
) -> None:
    changes = [
        make_change("Sprint", S11_START - timedelta(days=1), from_value=None, to_value="11"),
        make_change("Sprint", S11_CLOSE, from_value="11", to_value="11, 12"),
    ]

    found = facts_of(make_item, make_milestone, "P-1", ("sprint:11", "sprint:12"), changes)

    assert found["sprint:12"].carried_over == ("P-1",)
    assert found["sprint:12"].items_at_start == ("P-1",)
    assert found["sprint:11"].carried_over == ()


def test_an_item_done_when_its_sprint_closed_is_not_carried_over(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone
) -> None:
    changes = [
        make_change("Sprint", S11_START - timedelta(days=1), from_value=None, to_value="11"),
        make_change("status", S11_CLOSE - timedelta(days=1), from_display="In Progress", to_display="Done"),
        make_change("Sprint", S12_START + timedelta(days=1), from_value="11", to_value="11, 12"),
    ]

    found = facts_of(make_item, make_milestone, "P-1", ("sprint:11", "sprint:12"), changes, done=True)

    assert found["sprint:12"].carried_over == ()


def test_an_item_moved_out_before_its_sprint_closed_is_not_carried_over(
    make_item: MakeItem, make_change: MakeChange, make_milestone: MakeMilestone
) -> None:
    changes = [
        make_change("Sprint", S11_START - timedelta(days=1), from_value=None, to_value="11"),
        make_change("Sprint", S11_CLOSE - timedelta(days=3), from_value="11", to_value="12"),
    ]

    found = facts_of(make_item, make_milestone, "P-1", ("sprint:12",), changes)

    assert found["sprint:12"].carried_over == ()
    assert found["sprint:12"].items_at_start == ("P-1",)
