from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from service.domain.commitments import Commitment, CommitmentMove
from service.domain.enums import CommitmentOutcome, CommitmentSubject

T = datetime(2026, 10, 1, tzinfo=UTC)


def move(from_day: int, to_day: int) -> CommitmentMove:
    return CommitmentMove(
        moved_at=T, moved_by="pm", from_date=date(2026, 11, from_day), to_date=date(2026, 11, to_day)
    )


def commitment(*moves: CommitmentMove, delivered: datetime | None = None) -> Commitment:
    current = moves[-1].to_date if moves else date(2026, 11, 1)
    return Commitment(
        subject=CommitmentSubject.ITEM,
        subject_id=1,
        baseline_date=date(2026, 11, 1),
        current_date=current,
        promised_at=T,
        moves=moves,
        delivered_at=delivered,
    )


def test_commitment_slips_count_later_moves_and_net_days() -> None:
    c = commitment(move(1, 8), move(8, 5), move(5, 15))

    assert c.slip_count == 2
    assert c.slip_days == 14
    assert [m.days for m in c.moves] == [7, -3, 10]


def test_commitment_pulled_in_has_no_slip_days() -> None:
    assert commitment(move(1, 0 + 1)).slip_days == 0


@pytest.mark.parametrize(
    ("delivered", "today", "expected"),
    [
        (datetime(2026, 11, 15, 23, 0, tzinfo=UTC), date(2026, 12, 1), CommitmentOutcome.MET),
        (datetime(2026, 11, 16, 0, 1, tzinfo=UTC), date(2026, 12, 1), CommitmentOutcome.MISSED),
        (None, date(2026, 11, 15), CommitmentOutcome.OPEN),
        (None, date(2026, 11, 16), CommitmentOutcome.MISSED),
    ],
    ids=["delivered-on-date", "delivered-late", "open-on-date", "passed-undelivered"],
)
def test_commitment_outcome_against_current_date(
    delivered: datetime | None, today: date, expected: CommitmentOutcome
) -> None:
    assert commitment(move(1, 15), delivered=delivered).outcome(today) is expected
