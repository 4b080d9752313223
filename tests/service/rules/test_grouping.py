"""Items of one milestone (else of one project) tripping the same rule make one flag on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from service.domain.enums import FlagSubject, Severity, StatusCategory
from service.domain.ledger import build_milestone_commitment
from service.domain.work import Milestone, Project, WorkItem
from service.rules import ItemFacts, build_item_facts, build_milestone_facts, evaluate, load_rule_set
from service.rules.aggregate import build_project_facts
from service.rules.facts import Facts, ProjectFacts

MakeItem = Callable[..., WorkItem]
MakeMilestone = Callable[..., Milestone]

NOW = datetime(2026, 3, 25, 12, tzinfo=UTC)
STALE_A_WEEK = "builtin:\n  stale_in_progress:\n    enabled: true\n    days: 7\n"


def _stale_items(
    make_item: MakeItem, count: int, milestones: tuple[str, ...], *, first: int = 1
) -> list[ItemFacts]:
    """Items P-`first` onwards, `count` of them, in progress since March 1 with no date."""
    return [
        build_item_facts(
            make_item(
                id=n,
                external_id=f"1000{n}",
                key=f"P-{n}",
                created_at=datetime(2026, 3, 1, tzinfo=UTC),
                updated_at=datetime(2026, 3, 1, tzinfo=UTC),
                milestone_external_ids=milestones,
                due_date=None,
            ),
            [],
        )
        for n in range(first, first + count)
    ]


def _batch(items: list[ItemFacts], *milestones: Milestone) -> list[Facts]:
    built = [
        build_milestone_facts(m, items, commitment=None, as_of=NOW, sprint_closes={}) for m in milestones
    ]
    return [*items, *built]


def test_items_of_one_milestone_make_one_flag_naming_them(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    items = _stale_items(make_item, 3, ("v1",))
    waiting = make_item(
        id=9,
        external_id="10009",
        key="P-9",
        status="To Do",
        status_category=StatusCategory.TODO,
        milestone_external_ids=("v1",),
    )
    extra = build_item_facts(waiting, [])
    release = make_milestone()
    rules = load_rule_set(STALE_A_WEEK, source_name="t")

    [finding] = [
        f
        for f in evaluate(rules, _batch([*items, extra], release), now=NOW)
        if f.rule_id == "stale_in_progress"
    ]

    assert finding.subject.kind is FlagSubject.MILESTONE
    assert finding.subject.key == "v1"
    assert finding.evidence["item_keys"] == ["P-1", "P-2", "P-3"], finding.evidence
    assert finding.evidence["count"] == 3
    assert finding.evidence["item_keys"] == ["P-1", "P-2", "P-3"]
    assert finding.evidence["share_of_scope"] == 0.75
    assert [row["item"] for row in finding.evidence["items"]] == ["P-1", "P-2", "P-3"]  # type: ignore[index,union-attr]
    # Three of four items at risk: critical, whatever one item alone would be.
    assert finding.severity is Severity.CRITICAL
    assert finding.message.startswith("3 items of Release 1 (75% of its scope) are flagged stale in progress")


def test_a_lone_item_keeps_its_own_flag_and_grouping_can_be_turned_off(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    rules = load_rule_set(STALE_A_WEEK, source_name="t")
    lone = _stale_items(make_item, 1, ("v1",))
    pair = _stale_items(make_item, 2, ("v1",))

    [alone] = [
        f
        for f in evaluate(rules, _batch(lone, make_milestone()), now=NOW)
        if f.rule_id == "stale_in_progress"
    ]
    ungrouped = evaluate(rules, _batch(pair, make_milestone()), now=NOW, group=False)

    assert alone.subject.kind is FlagSubject.ITEM
    assert sorted(f.subject.key for f in ungrouped if f.rule_id == "stale_in_progress") == ["P-1", "P-2"]


def test_an_item_groups_under_its_open_milestone_promised_first(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    later = make_milestone(id=7, external_id="v1", name="Release 1", due_date=date(2026, 5, 1))
    sooner = make_milestone(id=8, external_id="sprint:4", name="Sprint 4", due_date=date(2026, 3, 27))
    closed = make_milestone(
        id=9,
        external_id="sprint:3",
        name="Sprint 3",
        due_date=date(2026, 3, 13),
        completed_at=datetime(2026, 3, 13, tzinfo=UTC),
    )
    items = _stale_items(make_item, 2, ("v1", "sprint:3", "sprint:4"))
    rules = load_rule_set(STALE_A_WEEK, source_name="t")

    [finding] = [
        f
        for f in evaluate(rules, _batch(items, later, sooner, closed), now=NOW)
        if f.rule_id == "stale_in_progress"
    ]

    assert finding.subject.key == "sprint:4"


def test_a_milestone_flagged_itself_takes_its_items_into_its_flag(
    make_item: MakeItem, make_milestone: MakeMilestone
) -> None:
    late = make_milestone(due_date=date(2026, 3, 10))
    items = [
        build_item_facts(
            make_item(
                id=n,
                external_id=f"1000{n}",
                key=f"P-{n}",
                milestone_external_ids=("v1",),
                due_date=date(2026, 3, 10),
            ),
            [],
        )
        for n in (1, 2)
    ]
    rules = load_rule_set("", source_name="t")
    commitment = build_milestone_commitment(late, [], created_at=datetime(2026, 3, 1, tzinfo=UTC))
    built = build_milestone_facts(late, items, commitment=commitment, as_of=NOW, sprint_closes={})

    overdue = [f for f in evaluate(rules, [*items, built], now=NOW) if f.rule_id == "overdue_commitment"]

    assert [(f.subject.kind, f.subject.key) for f in overdue] == [(FlagSubject.MILESTONE, "v1")]
    assert overdue[0].evidence["item_keys"] == ["P-1", "P-2"]
    assert overdue[0].evidence["promised_date"] == "2026-03-10"


def test_items_outside_any_open_milestone_make_one_flag_on_their_project(
    make_item: MakeItem, make_milestone: MakeMilestone, project: Project
) -> None:
    # P-1 and P-2 are in no milestone, P-3 only in a closed sprint: three of project P. P-4 and P-5
    # are in open release v1, so they group there, not on the project.
    closed = make_milestone(
        id=9, external_id="sprint:3", name="Sprint 3", completed_at=datetime(2026, 3, 13, tzinfo=UTC)
    )
    loose = [*_stale_items(make_item, 2, ()), *_stale_items(make_item, 1, ("sprint:3",), first=3)]
    planned = _stale_items(make_item, 2, ("v1",), first=4)
    items = [*loose, *planned]
    batch = [*_batch(items, make_milestone(), closed), _project_facts(project, items)]
    rules = load_rule_set(STALE_A_WEEK, source_name="t")

    stale = [f for f in evaluate(rules, batch, now=NOW) if f.rule_id == "stale_in_progress"]

    assert [(f.subject.kind, f.subject.key) for f in stale] == [
        (FlagSubject.MILESTONE, "v1"),
        (FlagSubject.PROJECT, "P"),
    ]
    on_project = stale[1]
    assert on_project.subject.id == project.id
    assert on_project.evidence["item_keys"] == ["P-1", "P-2", "P-3"]
    assert on_project.evidence["count"] == 3
    assert [row["item"] for row in on_project.evidence["items"]] == ["P-1", "P-2", "P-3"]  # type: ignore[index,union-attr]
    assert "share_of_scope" not in on_project.evidence
    # A project is no promise with a scope at risk: the worst of its items decides.
    assert on_project.severity is max((f.severity for f in evaluate(rules, loose, now=NOW)), key=_rank)
    assert on_project.message.startswith(
        "3 items of P outside any open milestone are flagged stale in progress: P-1, P-2, P-3"
    )


def test_a_lone_item_outside_milestones_keeps_its_own_flag(make_item: MakeItem, project: Project) -> None:
    items = _stale_items(make_item, 1, ())
    rules = load_rule_set(STALE_A_WEEK, source_name="t")

    stale = [
        f
        for f in evaluate(rules, [*items, _project_facts(project, items)], now=NOW)
        if f.rule_id == "stale_in_progress"
    ]

    assert [(f.subject.kind, f.subject.key) for f in stale] == [(FlagSubject.ITEM, "P-1")]


def _project_facts(project: Project, items: list[ItemFacts]) -> ProjectFacts:
    return build_project_facts(project, items, [], as_of=NOW)


def _rank(severity: Severity) -> int:
    return [Severity.INFO, Severity.WARNING, Severity.CRITICAL].index(severity)
