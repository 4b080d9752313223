"""The sandbox's notion of now: real time plus an offset the control API can advance, never rewind."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class ClockError(ValueError):
    """A start or a move the clock refuses: a start in the future, a move backward."""


class SandboxClock:
    """A clock shared by every world of one sandbox, so advancing it moves Jira and Trello together.

    `frozen_at` pins time for deterministic tests; otherwise it follows the wall clock plus an offset.
    `start_at` (UTC, not in the future) sets that offset so the clock reads `start_at` when built and
    runs on from there: a world generated then ends at `start_at`, and a history can be built forward
    from it with `advance_forward`, which may move past the wall clock but never back.
    """

    def __init__(
        self,
        *,
        frozen_at: datetime | None = None,
        start_at: datetime | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if frozen_at is not None and start_at is not None:
            raise ClockError("a clock is either frozen or started at an instant, not both")
        self._lock = threading.Lock()
        self._wall = wall
        self._offset = timedelta(0)
        self._frozen_at = frozen_at
        self._held_offset: timedelta | None = None  # the offset before `hold`, while held
        if start_at is not None:
            if start_at.tzinfo is None:
                raise ClockError("the start needs its UTC offset")
            real_now = wall()
            if start_at > real_now:
                raise ClockError(
                    f"the start {start_at.isoformat()} is in the future (now {real_now.isoformat()})"
                )
            self._offset = start_at - real_now

    def hold(self, at: datetime | None = None) -> datetime:
        """Stop time until `run_on`, at `at` (no later than now) or at the instant it reads now:
        worlds generated in between are laid on that one instant, so the same scenario, seed and
        start give the same worlds."""
        with self._lock:
            base = self._frozen_at if self._frozen_at is not None else self._wall()
            current = base + self._offset
            if at is not None and at > current:
                raise ClockError(f"cannot hold at {at.isoformat()}, after now ({current.isoformat()})")
            self._held_offset = self._offset
            self._frozen_at = current if at is None else at
            self._offset = timedelta(0)
            return self._frozen_at

    def run_on(self, *, catch_up: bool = False) -> None:
        """A held clock runs on from the instant it was held at; with `catch_up`, from where it would
        read had it never been held (a clock that follows the wall clock keeps following it)."""
        with self._lock:
            if self._frozen_at is None:
                return
            if catch_up and self._held_offset is not None:
                self._offset = self._held_offset
            else:
                self._offset = self._frozen_at - self._wall()
            self._frozen_at = None
            self._held_offset = None

    def now(self) -> datetime:
        with self._lock:
            base = self._frozen_at if self._frozen_at is not None else self._wall()
            return base + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move by `delta`. In process it may be negative (tests step a server clock back to mimic
        skew); the control API refuses that (`advance_forward`)."""
        with self._lock:
            self._offset += delta
        return self.now()

    def advance_forward(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ClockError("the clock only moves forward")
        return self.advance(delta)
