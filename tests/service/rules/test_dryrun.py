from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from service.domain.enums import FlagSubject, StatusCategory
from service.domain.work import Activity, Change, Milestone, Project, WorkItem
from service.rules import (
    ItemHistory,
    MilestoneHistory,
    ProjectHistory,
    dry_run,
    facts_as_of,
    load_rule_set,
)
from service.rules.dryrun import replay_instants

MakeItem = Callable[..., WorkItem]
MakeChange = Callable[..., Change]
MakeMilestone = Callable[..., Milestone]
MakeActivity = Callable[..., Activity]

START = datetime(2026, 3, 2, 23, tzinfo=UTC)
RULES = """\
builtin:
  stale_in_progress:
    enabled: true
  promised_date_moved:
    enabled: true
rules:
  - id: slipped-twice
    applies_to: item
    when: "commitment.slip_count >= 2"
    severity: warning
    message: "{item.key} slipped twice"
"""


def on(day_of_march: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day_of_march, hour, tzinfo=UTC)


@pytest.fixture
def history(make_item: MakeItem, make_change: MakeChange, project: Project) -> ProjectHistory:
    # Promised for the 10th on the 2nd, moved to the 12th on the 5th and to the 16th on the 9th,
    # delivered on the 20th: late from the 17th to the 20th.
    item = make_item(
        status="Done",
        status_category=StatusCategory.DONE,
        due_date=date(2026, 3, 16),
        created_at=on(2, 9),
        updated_at=on(20),
        resolved_at=on(20),
    )
    changes = (
        make_change("promised_date", on(2), from_value=None, to_value="2026-03-10"),
        make_change("status", on(3), from_display="To Do", to_display="In Progress"),
        make_change("promised_date", on(5), from_value="2026-03-10", to_value="2026-03-12"),
        make_change("promised_date", on(9), from_value="2026-03-12", to_value="2026-03-16"),
        make_change("status", on(20), from_display="In Progress", to_display="Done"),
    )
    return ProjectHistory(project=project, items=(ItemHistory(item=item, changes=changes),))


def hits_by_rule(
    history: ProjectHistory, rules_text: str = RULES
) -> dict[str, tuple[datetime, datetime | None]]:
    hits = dry_run(
        load_rule_set(rules_text, source_name="dry"),
        [history],
        start=START,
        end=START + timedelta(days=25),
    )
    return {
        h.rule_id: (h.first_flagged_at, h.resolved_at) for h in hits if h.subject.kind is FlagSubject.ITEM
    }


def test_dry_run_reports_first_flag_date_per_rule(history: ProjectHistory) -> None:
    hits = hits_by_rule(history)

    assert hits["slipped-twice"][0] == START.replace(day=9)
    assert hits["overdue_commitment"][0] == START.replace(day=17)
    assert hits["promised_date_moved"][0] == START.replace(day=9)


def test_dry_run_reports_when_the_flag_would_have_resolved(history: ProjectHistory) -> None:
    hits = hits_by_rule(history)

    assert hits["overdue_commitment"][1] == START.replace(day=20)
    assert hits["slipped-twice"][1] is None


def test_dry_run_stale_item_resolves_when_a_comment_was_made(
    make_item: MakeItem, make_change: MakeChange, make_activity: MakeActivity, project: Project
) -> None:
    item = make_item(
        status="Done", status_category=StatusCategory.DONE, created_at=on(2, 9), resolved_at=on(16)
    )
    changes = (
        make_change("status", on(3), from_display="To Do", to_display="In Progress"),
        make_change("status", on(16), from_display="In Progress", to_display="Done"),
    )
    comment = make_activity(on(14), edited=on(15))
    history = ProjectHistory(
        project=project, items=(ItemHistory(item=item, changes=changes, activity=(comment,)),)
    )

    stale = hits_by_rule(history)["stale_in_progress"]

    # In progress from the 3rd: stale from the 8th until the comment on the 14th, not until done.
    assert stale == (START.replace(day=8), START.replace(day=14))


def test_dry_run_rule_filter_keeps_only_asked_rules(history: ProjectHistory) -> None:
    hits = dry_run(
        load_rule_set(RULES, source_name="dry"),
        [history],
        start=START,
        end=START + timedelta(days=25),
        rule_ids={"slipped-twice"},
    )

    assert [(h.rule_id, h.subject.key, h.instants_flagged) for h in hits] == [("slipped-twice", "P-1", 19)]
    assert hits[0].first_finding.message == "P-1 slipped twice"


def test_dry_run_milestone_flagged_from_replayed_items(
    make_item: MakeItem, make_milestone: MakeMilestone, project: Project
) -> None:
    item = make_item(milestone_external_ids=("v1",), created_at=on(1), updated_at=on(1), due_date=None)
    milestone = make_milestone(due_date=date(2026, 3, 6))
    history = ProjectHistory(
        project=project,
        items=(ItemHistory(item=item, changes=()),),
        milestones=(MilestoneHistory(milestone=milestone, created_at=on(1)),),
    )

    hits = dry_run(
        load_rule_set("", source_name="dry"), [history], start=START, end=START + timedelta(days=6)
    )

    [overdue] = [h for h in hits if h.rule_id == "overdue_commitment"]
    assert (overdue.subject.kind, overdue.first_flagged_at) == (FlagSubject.MILESTONE, START.replace(day=7))


def test_facts_as_of_before_creation_has_only_project(history: ProjectHistory) -> None:
    facts = facts_as_of(history, on(1))

    assert [type(f).__name__ for f in facts] == ["ProjectFacts"]


def test_replay_instants_non_positive_step_refused() -> None:
    with pytest.raises(ValueError, match="step"):
        list(replay_instants(START, START, timedelta(0)))
