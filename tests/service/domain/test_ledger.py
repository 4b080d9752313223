from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from service.domain.enums import (
    CommitmentOutcome,
    CommitmentSubject,
    ItemKind,
    MilestoneKind,
    SourceKind,
    StatusCategory,
)
from service.domain.ledger import (
    PromiseHistory,
    build_commitment,
    build_item_commitment,
    build_milestone_commitment,
    default_promise_field,
    parse_promised_date,
)
from service.domain.work import Change, Milestone, WorkItem

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def due_change(
    n: int, when: datetime, before: str | None, after: str | None, *, field: str = "promised_date"
) -> Change:
    return Change(
        source_id=1,
        item_external_id="10001",
        external_id=f"{n}:0",
        field=field,
        from_value=before,
        to_value=after,
        author=f"user{n}",
        changed_at=when,
    )


def item(**overrides: object) -> WorkItem:
    values: dict[str, object] = {
        "id": 5,
        "source_id": 1,
        "project_external_id": "P",
        "external_id": "10001",
        "key": "P-1",
        "title": "t",
        "kind": ItemKind.TASK,
        "status": "To Do",
        "status_category": StatusCategory.TODO,
        "created_at": T0,
        "updated_at": T0,
        "due_date": date(2026, 3, 25),
    }
    values.update(overrides)
    return WorkItem(**values)  # type: ignore[arg-type]


HISTORY = [
    due_change(1, at(1), None, "2026-03-15"),
    due_change(2, at(3), "2026-03-15", "2026-03-20"),
    due_change(3, at(5), "2026-03-20", "2026-03-18"),
    due_change(4, at(8), "2026-03-18", "2026-03-25"),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-05", date(2026, 6, 5)),
        ("2026-06-05 00:00:00.0", date(2026, 6, 5)),
        ("2015-06-10T15:00:00.000Z", date(2015, 6, 10)),
        ("2026-06-05T10:00:00.000+0300", date(2026, 6, 5)),
        ("05/Jun/26", None),
        ("2026-13-40", None),
        ("", None),
        (None, None),
    ],
    ids=["jira-date", "jira-display", "trello-utc", "offset", "jira-user-format", "invalid", "empty", "none"],
)
def test_parse_promised_date_provider_forms_give_calendar_date(
    value: str | None, expected: date | None
) -> None:
    assert parse_promised_date(value) == expected


def test_build_item_commitment_first_set_is_baseline_and_later_sets_are_moves() -> None:
    c = build_item_commitment(item(), HISTORY)

    assert c is not None
    assert c.baseline_date == date(2026, 3, 15)
    assert c.promised_at == at(1)
    assert c.current_date == date(2026, 3, 25)
    assert [(m.from_date, m.to_date, m.days) for m in c.moves] == [
        (date(2026, 3, 15), date(2026, 3, 20), 5),
        (date(2026, 3, 20), date(2026, 3, 18), -2),
        (date(2026, 3, 18), date(2026, 3, 25), 7),
    ]
    assert [(m.moved_by, m.change_external_id) for m in c.moves] == [
        ("user2", "2:0"),
        ("user3", "3:0"),
        ("user4", "4:0"),
    ]
    assert c.slip_count == 2
    assert c.slip_days == 10


def test_build_item_commitment_shuffled_changes_rebuild_same_ledger() -> None:
    expected = build_item_commitment(item(), HISTORY)
    rng = random.Random(4)
    for _ in range(20):
        shuffled = HISTORY[:]
        rng.shuffle(shuffled)
        assert build_item_commitment(item(), shuffled) == expected


def test_build_item_commitment_same_instant_changes_chain_regardless_of_order() -> None:
    # Two edits stamped with one instant; the id order ("9:1" before "9:10") disagrees with the
    # chain of dates (10 -> 12 -> 14), and the chain wins whatever order they arrive in.
    first = dataclasses.replace(due_change(1, at(2), "2026-03-10", "2026-03-12"), external_id="9:10")
    second = dataclasses.replace(due_change(2, at(2), "2026-03-12", "2026-03-14"), external_id="9:1")
    for changes in ([first, second], [second, first]):
        c = build_item_commitment(item(due_date=date(2026, 3, 14)), changes)
        assert c is not None
        assert [(m.from_date, m.to_date) for m in c.moves] == [
            (date(2026, 3, 10), date(2026, 3, 12)),
            (date(2026, 3, 12), date(2026, 3, 14)),
        ]


def test_build_item_commitment_date_set_at_creation_is_baseline_from_creation() -> None:
    c = build_item_commitment(item(), [due_change(1, at(4), "2026-03-10", "2026-03-25")])

    assert c is not None
    assert (c.baseline_date, c.promised_at) == (date(2026, 3, 10), T0)
    assert len(c.moves) == 1


def test_build_item_commitment_no_changes_uses_current_date_from_creation() -> None:
    c = build_item_commitment(item(), [])

    assert c is not None
    assert (c.baseline_date, c.current_date, c.moves) == (date(2026, 3, 25), date(2026, 3, 25), ())


def test_build_item_commitment_never_dated_is_none() -> None:
    assert build_item_commitment(item(due_date=None), []) is None


def test_build_item_commitment_cleared_date_keeps_baseline_with_no_current() -> None:
    changes = [due_change(1, at(1), None, "2026-03-15"), due_change(2, at(2), "2026-03-15", None)]

    c = build_item_commitment(item(due_date=None), changes)

    assert c is not None
    assert (c.baseline_date, c.current_date) == (date(2026, 3, 15), None)
    assert c.moves[0].to_date is None


def test_build_item_commitment_same_day_time_change_is_not_a_move() -> None:
    trello = [
        due_change(1, at(1), None, "2026-03-15T12:00:00.000Z", field="due"),
        due_change(2, at(2), "2026-03-15T12:00:00.000Z", "2026-03-15T17:00:00.000Z", field="due"),
    ]

    c = build_item_commitment(item(due_date=date(2026, 3, 15)), trello, promise_field="due")

    assert c is not None
    assert c.moves == ()


def test_build_item_commitment_raw_provider_field_ignores_other_fields() -> None:
    changes = [*HISTORY, due_change(9, at(9), "2026-04-01", "2026-04-09", field="duedate")]

    c = build_item_commitment(item(due_date=date(2026, 4, 9)), changes, promise_field="duedate")

    assert c is not None
    assert (c.baseline_date, len(c.moves)) == (date(2026, 4, 1), 1)


def test_build_item_commitment_current_field_wins_over_truncated_changelog() -> None:
    c = build_item_commitment(item(due_date=date(2026, 3, 30)), HISTORY)

    assert c is not None
    assert c.current_date == date(2026, 3, 30)


@pytest.mark.parametrize(
    ("resolved_at", "today", "outcome"),
    [
        (at(20), date(2026, 4, 1), CommitmentOutcome.MET),
        (at(30), date(2026, 4, 5), CommitmentOutcome.MISSED),
        (None, date(2026, 3, 24), CommitmentOutcome.OPEN),
        (None, date(2026, 3, 26), CommitmentOutcome.MISSED),
    ],
    ids=["done-in-time", "done-late", "open-before-date", "open-after-date"],
)
def test_build_item_commitment_outcome_follows_delivery(
    resolved_at: datetime | None, today: date, outcome: CommitmentOutcome
) -> None:
    done = resolved_at is not None
    subject = item(
        status="Done" if done else "To Do",
        status_category=StatusCategory.DONE if done else StatusCategory.TODO,
        resolved_at=resolved_at,
    )

    c = build_item_commitment(subject, HISTORY)

    assert c is not None
    assert c.outcome(today) is outcome


def test_build_item_commitment_item_without_id_raises() -> None:
    with pytest.raises(ValueError, match="no id"):
        build_item_commitment(item(id=None), HISTORY)


def test_build_milestone_commitment_released_version_is_met_on_its_date() -> None:
    milestone = Milestone(
        id=2,
        source_id=1,
        project_external_id="P",
        external_id="v1",
        name="R1",
        kind=MilestoneKind.VERSION,
        due_date=date(2026, 4, 2),
        released=True,
    )
    moved = Change(
        source_id=1,
        item_external_id="v1",
        external_id="obs-1",
        field="releaseDate",
        from_value="2026-03-30",
        to_value="2026-04-02",
        changed_at=at(10),
    )

    c = build_milestone_commitment(milestone, [moved], created_at=T0)

    assert c is not None
    assert c.subject is CommitmentSubject.MILESTONE
    assert (c.baseline_date, c.slip_days) == (date(2026, 3, 30), 3)
    assert c.outcome(date(2026, 5, 1)) is CommitmentOutcome.MET


def test_build_commitment_ignores_changes_before_first_date() -> None:
    history = PromiseHistory(
        subject=CommitmentSubject.ITEM,
        subject_id=1,
        changes=[due_change(1, at(1), None, None), due_change(2, at(2), None, "2026-03-09")],
        promise_field="promised_date",
        current_date=date(2026, 3, 9),
        created_at=T0,
    )

    c = build_commitment(history)

    assert c is not None
    assert (c.baseline_date, c.promised_at, c.moves) == (date(2026, 3, 9), at(2), ())


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (SourceKind.JIRA_CLOUD, "duedate"),
        (SourceKind.JIRA_DATA_CENTER, "duedate"),
        (SourceKind.TRELLO, "due"),
    ],
    ids=["jira-cloud", "jira-dc", "trello"],
)
def test_default_promise_field_by_source(kind: SourceKind, field: str) -> None:
    assert default_promise_field(kind) == field
