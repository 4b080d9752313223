"""The sandbox's notion of now: real time plus an offset the control API can advance."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """A clock shared by every world of one sandbox, so advancing it moves Jira and Trello together.

    `frozen_at` pins time for deterministic tests; otherwise it follows the wall clock plus `offset`.
    """

    def __init__(self, *, frozen_at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen_at = frozen_at

    def now(self) -> datetime:
        with self._lock:
            base = self._frozen_at if self._frozen_at is not None else datetime.now(UTC)
            return base + self._offset

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._offset += delta
        return self.now()
