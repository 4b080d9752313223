"""The backtest's definitions on the worked example of docs/BACKTEST.md."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from service.domain.enums import FlagSubject, MilestoneKind, Severity, StatusCategory
from service.domain.work import Change, Milestone, Project, WorkItem
from service.rules import ItemHistory, MilestoneHistory, ProjectHistory, load_rule_set
from service.rules.backtest import (
    BacktestError,
    Episode,
    Label,
    PushModel,
    Replay,
    Score,
    backtest,
    collect_promises,
    posted_comments,
    replay,
    score,
    working_days_between,
)

MakeItem = Callable[..., WorkItem]
MakeChange = Callable[..., Change]
MakeMilestone = Callable[..., Milestone]

SINCE = datetime(2026, 3, 1, 23, tzinfo=UTC)
UNTIL = datetime(2026, 3, 31, 23, tzinfo=UTC)
IN_PROGRESS = """\
rules:
  - id: in-progress
    applies_to: item
    when: "item.days_in_progress >= 1"
    severity: warning
    message: "{item.key} is in progress"
"""


def on(day_of_march: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day_of_march, hour, tzinfo=UTC)


@pytest.fixture
def history(make_item: MakeItem, make_change: MakeChange, project: Project) -> ProjectHistory:
    # P-1: promised on the 2nd for the 10th, moved on the 5th to the 12th and on the 9th to the
    # 16th, delivered on the 20th. P-2: due the 20th from its creation, delivered on the 18th.
    late = make_item(
        status="Done",
        status_category=StatusCategory.DONE,
        due_date=date(2026, 3, 16),
        created_at=on(2, 9),
        updated_at=on(20),
        resolved_at=on(20),
    )
    late_changes = (
        make_change("promised_date", on(2), from_value=None, to_value="2026-03-10"),
        make_change("status", on(3), from_display="To Do", to_display="In Progress"),
        make_change("promised_date", on(5), from_value="2026-03-10", to_value="2026-03-12"),
        make_change("promised_date", on(9), from_value="2026-03-12", to_value="2026-03-16"),
        make_change("status", on(20), from_display="In Progress", to_display="Done"),
    )
    kept = make_item(
        id=2,
        external_id="10002",
        key="P-2",
        status="Done",
        status_category=StatusCategory.DONE,
        due_date=date(2026, 3, 20),
        created_at=on(2, 9),
        updated_at=on(18),
        resolved_at=on(18),
    )
    kept_changes = (
        make_change("status", on(3), item="10002", from_display="To Do", to_display="In Progress"),
        make_change("status", on(18), item="10002", from_display="In Progress", to_display="Done"),
    )
    return ProjectHistory(
        project=project,
        items=(ItemHistory(item=late, changes=late_changes), ItemHistory(item=kept, changes=kept_changes)),
    )


def rule(scores: tuple[Score, ...], name: str) -> Score:
    return next(s for s in scores if s.name == name)


def test_a_promise_knows_its_date_at_each_instant_and_whether_it_was_kept(history: ProjectHistory) -> None:
    promises = collect_promises([history], until=UNTIL)
    late = promises[(FlagSubject.ITEM, 1, "P-1")]
    kept = promises[(FlagSubject.ITEM, 1, "P-2")]

    assert late.date_at(on(1)) is None
    assert late.date_at(on(4)) == date(2026, 3, 10)
    assert late.date_at(on(6)) == date(2026, 3, 12)
    assert late.missed_after(on(4), UNTIL) is True  # moved later on the 5th
    assert late.missed_after(on(10), UNTIL) is True  # due the 16th then, delivered on the 20th
    assert late.broken(SINCE, UNTIL) == (date(2026, 3, 10), on(5))
    assert kept.missed_after(on(4), UNTIL) is False
    assert kept.broken(SINCE, UNTIL) is None
    # Undecided while the date in force has not passed and nothing is delivered.
    assert kept.missed_after(on(4), on(15)) is None


def test_rules_are_scored_for_precision_recall_and_lead(history: ProjectHistory) -> None:
    report = backtest(load_rule_set(IN_PROGRESS, source_name="t"), [history], since=SINCE, until=UNTIL)

    in_progress = rule(report.rules, "in-progress")
    # Raised on both items on the 3rd at 23:00: P-1's promise was then broken (moved on the 5th),
    # P-2's was kept.
    assert (in_progress.flags, in_progress.earned, in_progress.not_earned) == (2, 1, 1)
    assert in_progress.precision == 0.5
    assert report.promises_missed == 1
    assert in_progress.recall == 1.0
    # Promised for the 10th, first flagged on Wednesday the 4th: 6 days, 4 of them working days.
    assert in_progress.median_lead_days == 6.0
    assert in_progress.median_lead_working_days == 4.0
    # The baseline flags both items too, from the 9th: as precise, so not beaten.
    assert (in_progress.baseline, in_progress.beats_baseline) == ("in_progress_over_5_days", False)
    overdue = rule(report.rules, "overdue_commitment")
    # Overdue from the 17th: right, but too late to count for recall.
    assert (overdue.flags, overdue.earned, overdue.recall) == (1, 1, 0.0)
    assert overdue.comments == 1
    assert report.overall.flags == sum(s.flags for s in report.rules)
    assert {b.name for b in report.baselines} == {
        "past_due_items",
        "due_within_7_days",
        "in_progress_over_5_days",
        "open_work_7_days_before_date",
    }
    past_due = rule(report.baselines, "past_due_items")
    assert (past_due.flags, past_due.earned) == (1, 1)
    # P-1 from the 3rd (the 10th, then the 12th and the 16th, each within a week), P-2 from the 13th.
    due_soon = rule(report.baselines, "due_within_7_days")
    assert (due_soon.flags, due_soon.earned, due_soon.not_earned) == (2, 1, 1)
    # As precise as its baseline is not better than it.
    assert (overdue.baseline, overdue.beats_baseline) == ("past_due_items", False)


def test_an_operators_verdict_overrides_the_history(history: ProjectHistory) -> None:
    labels = {("in-progress", (FlagSubject.ITEM, 1, "P-1")): Label.NOT_EARNED}
    report = backtest(
        load_rule_set(IN_PROGRESS, source_name="t"), [history], since=SINCE, until=UNTIL, labels=labels
    )

    assert rule(report.rules, "in-progress").precision == 0.0


def test_a_sprint_closed_with_open_work_is_a_missed_promise(
    make_item: MakeItem, make_milestone: MakeMilestone, project: Project
) -> None:
    sprint = make_milestone(
        external_id="sprint:11",
        name="Sprint 11",
        kind=MilestoneKind.SPRINT,
        start_date=date(2026, 3, 2),
        due_date=date(2026, 3, 13),
        completed_at=on(13, 17),
    )
    carried = make_item(milestone_external_ids=("sprint:11", "sprint:12"), created_at=on(1))
    history = ProjectHistory(
        project=project,
        items=(ItemHistory(item=carried, changes=()),),
        milestones=(MilestoneHistory(milestone=sprint, created_at=on(1)),),
    )

    promise = collect_promises([history], until=UNTIL)[(FlagSubject.MILESTONE, 1, "sprint:11")]

    assert promise.delivered_at is None
    assert promise.broken(SINCE, UNTIL) == (date(2026, 3, 13), on(14, 0))


def test_working_days_skip_weekends() -> None:
    friday, monday = date(2026, 3, 6), date(2026, 3, 9)
    assert working_days_between(friday, monday) == 1
    assert working_days_between(monday, friday) == -1
    assert working_days_between(friday, friday + timedelta(days=14)) == 10


def test_nothing_to_score_is_an_error_not_an_empty_score(history: ProjectHistory, project: Project) -> None:
    rules = load_rule_set(IN_PROGRESS, source_name="t")
    with pytest.raises(BacktestError, match="no stored history"):
        backtest(rules, [ProjectHistory(project=project, items=())], since=SINCE, until=UNTIL)
    with pytest.raises(BacktestError, match="no instant"):
        backtest(rules, [history], since=UNTIL, until=SINCE)
    with pytest.raises(BacktestError, match="the window holds no history"):
        backtest(rules, [history], since=SINCE - timedelta(days=30), until=SINCE - timedelta(days=10))


def flag(
    name: str,
    *reached: tuple[Severity, int],
    push: bool = True,
    ended: int | None = None,
    project: str = "A",
) -> Episode:
    """A flag of project `project` reaching each severity on the given day of March, at 23:00."""
    return Episode(
        rule="r",
        subject=(FlagSubject.ITEM, 1, name),
        raised_at=on(reached[0][1], 23),
        promises=(),
        push=push,
        ended_at=None if ended is None else on(ended, 23),
        project=(1, project),
        reached=tuple((severity, on(day, 23)) for severity, day in reached),
    )


def test_push_back_posts_what_its_budget_and_minimum_severity_let_through() -> None:
    warned_first = flag("W", (Severity.WARNING, 1))
    critical = flag("C", (Severity.CRITICAL, 1))
    resolved_while_waiting = flag("R", (Severity.WARNING, 1), ended=2)
    only_info = flag("I", (Severity.INFO, 1))
    not_pushed = flag("N", (Severity.CRITICAL, 1), push=False)
    escalated = flag("E", (Severity.WARNING, 1), (Severity.CRITICAL, 3))
    other_project = flag("O", (Severity.WARNING, 1), project="B")
    flags = [warned_first, critical, resolved_while_waiting, only_info, not_pushed, escalated, other_project]

    def posted(model: PushModel) -> set[str]:
        return {key[1][2] for key in posted_comments(flags, model, until=UNTIL)}

    # One a day per project, warnings and above: the critical one first, then the oldest warning
    # still open (R resolved on the 2nd, before it could go), then E; project B has its own day.
    assert posted(PushModel(max_per_day=1, min_severity=Severity.WARNING)) == {"C", "W", "E", "O"}
    # Criticals only: E goes from the 3rd, when it became critical.
    assert posted(PushModel(max_per_day=1, min_severity=Severity.CRITICAL)) == {"C", "E"}
    # No budget: every pushed flag.
    assert posted(PushModel()) == {"W", "C", "R", "I", "E", "O"}


def _apart(history: ProjectHistory) -> list[ProjectHistory]:
    """The worked example with P-2 in a project of its own, so each item keeps its own flag."""
    other = dataclasses.replace(history.project, id=4, external_id="Q", key="Q", name="Quay")
    late, kept = history.items
    moved = dataclasses.replace(kept, item=dataclasses.replace(kept.item, project_external_id="Q"))
    return [
        dataclasses.replace(history, items=(late,)),
        dataclasses.replace(history, project=other, items=(moved,)),
    ]


def test_items_of_one_project_flagged_together_are_one_flag_scored_as_their_items(
    history: ProjectHistory,
) -> None:
    rules = load_rule_set(IN_PROGRESS + "    push_to_jira: true\n", source_name="t")
    together = replay(rules, [history], since=SINCE, until=UNTIL)
    apart = replay(rules, _apart(history), since=SINCE, until=UNTIL)
    report = score(rules, together, since=SINCE, until=UNTIL, step=timedelta(days=1))

    # Scored as the two items' claims, exactly as when each has a flag of its own...
    def claims(played: Replay) -> list[tuple[str, datetime, datetime | None, bool]]:
        found = [
            (e.subject[2], e.raised_at, e.ended_at, e.push)
            for e in played.episodes
            if e.rule == "in-progress"
        ]
        return sorted(found, key=lambda c: c[0])

    assert [c[:3] for c in claims(together)] == [c[:3] for c in claims(apart)]
    in_progress = rule(report.rules, "in-progress")
    assert (in_progress.flags, in_progress.earned, in_progress.not_earned) == (2, 1, 1)
    # ...but one flag is open while both items are, on the project, and no claim of it is pushed.
    assert [c[3] for c in claims(together)] == [False, False]
    late = next(e for e in together.episodes if e.rule == "in-progress" and e.subject[2] == "P-1")
    assert late.ended_at is not None
    assert together.open_counts["in-progress"] == (late.ended_at - late.raised_at).days
    assert apart.open_counts["in-progress"] > together.open_counts["in-progress"]
    assert in_progress.comments == 0


def test_comments_are_counted_only_for_rules_precise_enough_to_be_pushed(history: ProjectHistory) -> None:
    pushed = load_rule_set(IN_PROGRESS + "    push_to_jira: true\n", source_name="t")

    def comments(min_precision: float) -> dict[str, int]:
        report = backtest(
            pushed, _apart(history), since=SINCE, until=UNTIL, push=PushModel(min_precision=min_precision)
        )
        return {s.name: s.comments for s in report.rules if s.name in ("in-progress", "overdue_commitment")}

    # in-progress is right once in two: 0.5 is below 0.8, so it posts nothing; overdue_commitment
    # (1.0) still does.
    assert comments(0.0) == {"in-progress": 2, "overdue_commitment": 1}
    assert comments(0.8) == {"in-progress": 0, "overdue_commitment": 1}
