"""Fakes of the service's own seams, injected where production code takes a dependency."""

from __future__ import annotations


class FakeClock:
    """Monotonic time that moves only when something sleeps on it or a test advances it: pacing,
    retries and rate-limit windows without waiting, deterministically. Records every sleep.

    Callable, so it can be passed where a `() -> float` clock is taken.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    __call__ = monotonic

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @property
    def slept(self) -> float:
        return sum(self.sleeps)


class RecordingEnqueuer:
    """An `Enqueuer` that only records what it was asked to do."""

    def __init__(self) -> None:
        self.deliveries: list[int] = []
        self.syncs: list[int] = []
        self.rule_runs: list[int] = []
        self.evaluations = 0  # evaluations of every project queued

    def process_delivery(self, inbox_id: int) -> None:
        self.deliveries.append(inbox_id)

    def process_deliveries(self, inbox_ids: list[int]) -> None:
        self.deliveries.extend(inbox_ids)

    def sync_source(self, source_id: int) -> None:
        self.syncs.append(source_id)

    def run_rules(self, run_id: int) -> None:
        self.rule_runs.append(run_id)

    def evaluate_all(self) -> None:
        self.evaluations += 1
