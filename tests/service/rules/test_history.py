from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from service.domain.enums import ActivityKind, Priority, StatusCategory
from service.domain.work import Activity, Change, Person, WorkItem
from service.rules.facts import FactsConfig, Reopening
from service.rules.history import build_item_facts, build_item_facts_as_of, item_as_of

Day = Callable[[int], datetime]
MakeItem = Callable[..., WorkItem]
MakeChange = Callable[..., Change]
MakeActivity = Callable[..., Activity]


def test_build_item_facts_in_progress_since_last_entry_into_progress(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = [
        make_change("status", day(1), from_display="To Do", to_display="In Progress"),
        make_change("status", day(2), from_display="In Progress", to_display="In Review"),
    ]

    facts = build_item_facts(make_item(status="In Review"), changes)

    assert facts.in_progress_since == day(1)
    assert facts.last_activity_at == day(2)


def test_build_item_facts_done_item_started_at_its_first_entry_into_progress(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = [
        make_change("status", day(1), from_display="To Do", to_display="In Progress"),
        make_change("status", day(2), from_display="In Progress", to_display="To Do"),
        make_change("status", day(3), from_display="To Do", to_display="In Progress"),
        make_change("status", day(5), from_display="In Progress", to_display="Done"),
    ]
    done = make_item(status="Done", status_category=StatusCategory.DONE, resolved_at=day(5))

    facts = build_item_facts(done, changes)
    open_facts = build_item_facts(make_item(status="In Progress"), changes[:3])

    assert (facts.started_at, facts.done_at) == (day(1), day(5))
    assert open_facts.started_at is None


def test_build_item_facts_reopen_counts_done_to_open_transitions(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = [
        make_change("status", day(1), from_display="In Progress", to_display="Done"),
        make_change("status", day(2), from_display="Done", to_display="In Progress"),
        make_change("resolution", day(2), from_display="Fixed", to_display=None),
        make_change("status", day(3), from_display="In Progress", to_display="Done"),
        make_change("status", day(4), from_display="Done", to_display="To Do"),
    ]

    facts = build_item_facts(make_item(status="To Do", status_category=StatusCategory.TODO), changes)

    assert facts.times_reopened == 2
    assert facts.last_reopened_at == day(4)


def test_build_item_facts_reopenings_pair_each_reopening_with_when_it_had_been_done(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = [
        make_change("status", day(1), from_display="In Progress", to_display="Done"),
        make_change("resolution", day(2), from_display="Fixed", to_display=None),
        make_change("status", day(2), from_display="Done", to_display="In Progress"),
        make_change("status", day(4), from_display="Done", to_display="To Do"),  # done before the log
    ]

    facts = build_item_facts(make_item(status="To Do", status_category=StatusCategory.TODO), changes)

    assert facts.reopenings == (
        Reopening(done_at=day(1), reopened_at=day(2)),
        Reopening(done_at=None, reopened_at=day(4)),
    )


def test_build_item_facts_blocked_since_flag_set(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = [
        make_change("Flagged", day(2), from_value=None, to_value="Impediment"),
        make_change("Flagged", day(3), from_value="Impediment", to_value=None),
        make_change("labels", day(5), from_display="ui", to_display="ui blocked"),
    ]

    facts = build_item_facts(make_item(blocked=True, updated_at=day(6)), changes)

    assert facts.blocked_since == day(5)


def test_build_item_facts_block_without_history_counts_from_last_activity(
    make_item: MakeItem, make_activity: MakeActivity, day: Day
) -> None:
    facts = build_item_facts(make_item(blocked=True), [], activity=[make_activity(day(6))])

    assert facts.blocked_since == day(6)


def test_build_item_facts_last_activity_is_latest_change_or_activity(
    make_item: MakeItem, make_change: MakeChange, make_activity: MakeActivity, day: Day
) -> None:
    changes = [make_change("status", day(2), from_display="To Do", to_display="In Progress")]
    activity = [make_activity(day(3), edited=day(5)), make_activity(day(4), kind=ActivityKind.CHECKLIST)]

    facts = build_item_facts(make_item(), changes, activity=activity)

    assert facts.last_activity_at == day(5)


def test_build_item_facts_provider_updated_stamp_is_not_activity(make_item: MakeItem, day: Day) -> None:
    facts = build_item_facts(make_item(created_at=day(1), updated_at=day(9)), [])

    assert facts.last_activity_at == day(1)


def test_build_item_facts_skips_other_items_activity(
    make_item: MakeItem, make_activity: MakeActivity, day: Day
) -> None:
    facts = build_item_facts(make_item(), [], activity=[make_activity(day(9), item="other")])

    assert facts.last_activity_at == make_item().created_at


def test_build_item_facts_as_of_counts_activity_as_it_stood(
    make_item: MakeItem, make_activity: MakeActivity, day: Day
) -> None:
    activity = [
        make_activity(day(2), edited=day(6)),  # edited after the instant: counts from its creation
        make_activity(day(5)),  # made after the instant: not yet
    ]

    facts = build_item_facts_as_of(make_item(), [], day(4), activity=activity)

    assert facts is not None
    assert facts.last_activity_at == day(2)


def test_build_item_facts_skips_other_items_changes(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    facts = build_item_facts(make_item(), [make_change("status", day(9), item="other", to_display="Done")])

    assert facts.changes == ()
    assert facts.last_activity_at == make_item().created_at


def test_build_item_facts_sprint_changelog_ids_read_as_sprint_milestones(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = [
        make_change("Sprint", day(1), from_value=None, to_value="11"),
        make_change("Sprint", day(8), from_value="11", to_value="11, 12"),
    ]

    facts = build_item_facts(make_item(milestone_external_ids=("sprint:11", "sprint:12")), changes)

    assert facts.joined_milestones == {"sprint:11": day(1), "sprint:12": day(8)}
    assert [(m.since, set(m.milestone_ids)) for m in facts.memberships] == [
        (make_item().created_at, set()),
        (day(1), {"sprint:11"}),
        (day(8), {"sprint:11", "sprint:12"}),
    ]


def test_item_as_of_undoes_later_changes(make_item: MakeItem, make_change: MakeChange, day: Day) -> None:
    now_item = make_item(
        status="Done",
        status_category=StatusCategory.DONE,
        priority=Priority.HIGH,
        assignee=Person(external_id="u2", display_name="Bo"),
        due_date=date(2026, 3, 25),
        labels=("ui", "blocked"),
        blocked=True,
        milestone_external_ids=("v2",),
        resolved_at=day(9),
        updated_at=day(9),
    )
    changes = [
        make_change("status", day(1), from_display="To Do", to_display="In Progress"),
        make_change("promised_date", day(4), from_value="2026-03-15", to_value="2026-03-25"),
        make_change("priority", day(4), from_display="Medium", to_display="High"),
        make_change("assignee", day(5), from_value="u1", from_display="Ann", to_value="u2", to_display="Bo"),
        make_change("labels", day(6), from_display="ui", to_display="ui blocked"),
        make_change("Fix Version", day(6), from_value="v1", to_value=None),
        make_change("Fix Version", day(6), from_value=None, to_value="v2"),
        make_change("status", day(9), from_display="In Progress", to_display="Done"),
    ]

    past = item_as_of(now_item, changes, day(3), config=FactsConfig())

    assert past is not None
    assert (past.status, past.status_category) == ("In Progress", StatusCategory.IN_PROGRESS)
    assert past.due_date == date(2026, 3, 15)
    assert past.priority is Priority.MEDIUM
    assert past.assignee == Person(external_id="u1", display_name="Ann")
    assert (past.labels, past.blocked) == (("ui",), False)
    assert past.milestone_external_ids == ("v1",)
    assert (past.resolved_at, past.updated_at) == (None, day(1))


def test_item_as_of_before_creation_is_none(make_item: MakeItem, day: Day) -> None:
    assert item_as_of(make_item(created_at=day(5)), [], day(4), config=FactsConfig()) is None


def test_build_item_facts_as_of_sees_only_past_promise(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = [
        make_change("promised_date", day(1), from_value=None, to_value="2026-03-10"),
        make_change("promised_date", day(6), from_value="2026-03-10", to_value="2026-03-20"),
    ]

    facts = build_item_facts_as_of(make_item(), changes, day(3))

    assert facts is not None
    assert facts.commitment is not None
    assert (facts.commitment.current_date, facts.commitment.moves) == (date(2026, 3, 10), ())
    assert facts.as_of == day(3)


def test_build_item_facts_as_of_now_matches_stored_item(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = [
        make_change("status", day(1), from_display="To Do", to_display="In Progress"),
        make_change("promised_date", day(2), from_value="2026-03-15", to_value="2026-03-20"),
    ]
    stored = make_item(updated_at=day(2))

    replayed = build_item_facts_as_of(stored, changes, day(30))
    current = build_item_facts(stored, changes)

    assert replayed is not None
    assert replayed.item == stored
    assert replayed.commitment == current.commitment


def test_status_categories_from_config_classify_custom_statuses(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    config = FactsConfig(status_categories={"shipped to client": StatusCategory.DONE})
    changes = [make_change("status", day(2), from_display="Shipped to client", to_display="Rework")]

    facts = build_item_facts(make_item(status="Rework"), changes, config=config)

    assert facts.times_reopened == 1


def test_item_as_of_trello_single_label_change_undone(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    stored = make_item(labels=("ui", "blocked"), blocked=True)
    changes = [make_change("label", day(4), from_value=None, to_value="blocked")]

    past = item_as_of(stored, changes, day(2), config=FactsConfig())
    facts = build_item_facts(stored, changes)

    assert past is not None
    assert (past.labels, past.blocked) == (("ui",), False)
    assert facts.blocked_since == day(4)


def test_item_as_of_undoes_a_sprint_change_on_sprint_milestone_ids(
    make_item: MakeItem, make_change: MakeChange, day: Day
) -> None:
    changes = [make_change("Sprint", day(8), from_value="11", to_value="11, 12")]
    now_item = make_item(milestone_external_ids=("version:1", "sprint:11", "sprint:12"))

    before = item_as_of(now_item, changes, day(7), config=FactsConfig())

    assert before is not None
    assert before.milestone_external_ids == ("version:1", "sprint:11")
