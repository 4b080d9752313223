"""A milestone's due date as observed to move at each write of milestones (providers keep no history
of it), read back as the changes the promise ledger is built from."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.domain.enums import MilestoneKind
from service.domain.ledger import MILESTONE_PROMISE_FIELD, build_milestone_commitment
from service.domain.work import Milestone
from service.store.items import list_milestone_changes, upsert_milestones
from service.store.orm import MilestoneChangeRow, MilestoneRow

T0 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


def _version(source_id: int, due: date | None, external_id: str = "v2") -> Milestone:
    return Milestone(
        source_id=source_id,
        project_external_id="10000",
        external_id=external_id,
        name=f"Release {external_id}",
        kind=MilestoneKind.VERSION,
        due_date=due,
    )


def _milestone_id(session: Session, external_id: str) -> int:
    return session.scalars(select(MilestoneRow.id).where(MilestoneRow.external_id == external_id)).one()


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(MilestoneChangeRow)) or 0


def test_a_stored_date_that_changes_is_recorded_and_read_back_as_a_change(
    session: Session, source_id: int
) -> None:
    upsert_milestones(
        session, source_id=source_id, milestones=[_version(source_id, date(2026, 12, 1))], observed_at=T0
    )
    # A new milestone's first date is its baseline, not a move.
    assert _count(session) == 0

    moved_at = T0 + timedelta(hours=1)
    upsert_milestones(
        session,
        source_id=source_id,
        milestones=[_version(source_id, date(2026, 12, 15))],
        observed_at=moved_at,
    )
    # The same write replayed, and a later write of the same date, add nothing.
    upsert_milestones(
        session,
        source_id=source_id,
        milestones=[_version(source_id, date(2026, 12, 15))],
        observed_at=moved_at,
    )
    upsert_milestones(
        session,
        source_id=source_id,
        milestones=[_version(source_id, date(2026, 12, 15))],
        observed_at=moved_at + timedelta(hours=1),
    )
    cleared_at = moved_at + timedelta(days=1)
    upsert_milestones(
        session, source_id=source_id, milestones=[_version(source_id, None)], observed_at=cleared_at
    )

    milestone_id = _milestone_id(session, "v2")
    changes = list_milestone_changes(session, milestone_ids=[milestone_id])
    assert [(c.item_external_id, c.field, c.from_value, c.to_value, c.changed_at) for c in changes] == [
        ("v2", MILESTONE_PROMISE_FIELD, "2026-12-01", "2026-12-15", moved_at),
        ("v2", MILESTONE_PROMISE_FIELD, "2026-12-15", None, cleared_at),
    ]
    assert all(c.source_id == source_id for c in changes)
    assert len({c.external_id for c in changes}) == 2


def test_a_first_date_set_on_a_milestone_without_one_is_recorded(session: Session, source_id: int) -> None:
    # The fixture's "v1" is stored without a date.
    milestone = replace(_version(source_id, None, "v1"), name="1.0")
    upsert_milestones(
        session,
        source_id=source_id,
        milestones=[replace(milestone, due_date=date(2027, 1, 10))],
        observed_at=T0,
    )

    changes = list_milestone_changes(session, milestone_ids=[_milestone_id(session, "v1")])
    assert [(c.from_value, c.to_value, c.changed_at) for c in changes] == [(None, "2027-01-10", T0)]


def test_the_ledger_reads_the_observed_moves_of_a_milestone(session: Session, source_id: int) -> None:
    upsert_milestones(
        session, source_id=source_id, milestones=[_version(source_id, date(2026, 12, 1))], observed_at=T0
    )
    later = T0 + timedelta(days=2)
    upsert_milestones(
        session, source_id=source_id, milestones=[_version(source_id, date(2026, 12, 10))], observed_at=later
    )
    milestone = replace(_version(source_id, date(2026, 12, 10)), id=_milestone_id(session, "v2"))

    commitment = build_milestone_commitment(
        milestone, list_milestone_changes(session, milestone_ids=[milestone.id or 0]), created_at=T0
    )

    assert commitment is not None
    assert (commitment.baseline_date, commitment.current_date) == (date(2026, 12, 1), date(2026, 12, 10))
    assert [(m.from_date, m.to_date, m.moved_at) for m in commitment.moves] == [
        (date(2026, 12, 1), date(2026, 12, 10), later)
    ]


def test_changes_go_with_their_milestone(session: Session, source_id: int) -> None:
    upsert_milestones(
        session, source_id=source_id, milestones=[_version(source_id, date(2026, 12, 1))], observed_at=T0
    )
    upsert_milestones(
        session,
        source_id=source_id,
        milestones=[_version(source_id, date(2026, 12, 2))],
        observed_at=T0 + timedelta(hours=1),
    )
    assert _count(session) == 1

    session.execute(delete(MilestoneRow).where(MilestoneRow.external_id == "v2"))

    assert _count(session) == 0
