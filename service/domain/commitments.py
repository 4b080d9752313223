"""The promise ledger: dates promised to a client, every move, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from service.domain.enums import CommitmentOutcome, CommitmentSubject


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitmentMove:
    moved_at: datetime
    moved_by: str | None
    from_date: date | None
    to_date: date | None
    change_external_id: str | None = None

    @property
    def days(self) -> int:
        """Signed days moved: positive is later (a slip), negative is earlier; 0 when set or cleared."""
        if self.from_date is None or self.to_date is None:
            return 0
        return (self.to_date - self.from_date).days


@dataclass(frozen=True, slots=True, kw_only=True)
class Commitment:
    id: int | None = None
    subject: CommitmentSubject
    subject_id: int
    baseline_date: date
    current_date: date | None
    promised_at: datetime
    moves: tuple[CommitmentMove, ...] = ()
    delivered_at: datetime | None = None

    @property
    def slip_count(self) -> int:
        """Moves that pushed the date later."""
        return sum(1 for move in self.moves if move.days > 0)

    @property
    def slip_days(self) -> int:
        """Net days between the first promise and the current one (0 when pulled in or cleared)."""
        if self.current_date is None:
            return 0
        return max(0, (self.current_date - self.baseline_date).days)

    def outcome(self, today: date) -> CommitmentOutcome:
        """Met when delivered on or before the date in force; missed once that date has passed."""
        deadline = self.current_date or self.baseline_date
        if self.delivered_at is not None:
            return CommitmentOutcome.MET if self.delivered_at.date() <= deadline else CommitmentOutcome.MISSED
        return CommitmentOutcome.MISSED if today > deadline else CommitmentOutcome.OPEN
