"""Throughput and completion forecasts: a linear projection and a seeded Monte Carlo simulation.

The simulation draws a week's throughput from the recent weekly history until the remaining items
are done, many times; the week by which 50% (85%) of the trials finished is the 50% (85%)
forecast. It is seeded, so the same history gives the same dates on every run and machine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

WEEK = timedelta(days=7)


def weekly_throughput(done_times: Iterable[datetime], *, as_of: datetime, weeks: int) -> tuple[int, ...]:
    """Items finished in each of the `weeks` seven-day windows ending at `as_of`, oldest first."""
    counts = [0] * weeks
    for done_at in done_times:
        if done_at > as_of:
            continue
        index = (as_of - done_at) // WEEK
        if index < weeks:
            counts[weeks - 1 - index] += 1
    return tuple(counts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    """Weeks until `remaining` items are done; None where the history cannot get there in time."""

    remaining: int
    history: tuple[int, ...]
    trials: int
    seed: int
    max_weeks: int
    # Sorted weeks per trial; trials that did not finish within max_weeks are left out.
    finished_weeks: tuple[int, ...]

    @property
    def mean_weekly_throughput(self) -> float:
        return sum(self.history) / len(self.history) if self.history else 0.0

    @property
    def linear_weeks(self) -> float | None:
        mean = self.mean_weekly_throughput
        return self.remaining / mean if mean > 0 else None

    def weeks_at(self, confidence: int) -> int | None:
        """The week by which `confidence` percent of the trials had finished."""
        if self.remaining <= 0:
            return 0
        needed = math.ceil(self.trials * confidence / 100)
        if needed == 0:
            return 0
        if needed > len(self.finished_weeks):
            return None
        return self.finished_weeks[needed - 1]

    def date_at(self, confidence: int, start: date) -> date | None:
        weeks = self.weeks_at(confidence)
        return None if weeks is None else start + weeks * WEEK

    def linear_date(self, start: date) -> date | None:
        weeks = self.linear_weeks
        return None if weeks is None else start + timedelta(days=math.ceil(weeks * 7))


@lru_cache(maxsize=4096)
def _simulate(
    remaining: int, history: tuple[int, ...], trials: int, seed: int, max_weeks: int
) -> tuple[int, ...]:
    if not any(history):
        return ()
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    draw = rng.random
    size = len(history)
    finished: list[int] = []
    for _ in range(trials):
        done = 0
        weeks = 0
        while done < remaining and weeks < max_weeks:
            done += history[int(draw() * size)]
            weeks += 1
        if done >= remaining:
            finished.append(weeks)
    finished.sort()
    return tuple(finished)


def forecast_completion(
    remaining: int,
    history: Sequence[int],
    *,
    trials: int = 1000,
    seed: int = 0,
    max_weeks: int = 104,
) -> Forecast:
    """Monte Carlo forecast of the weeks to finish `remaining` items at the pace of `history`."""
    if trials <= 0:
        raise ValueError("trials must be positive")
    frozen = tuple(history)
    finished = _simulate(remaining, frozen, trials, seed, max_weeks) if remaining > 0 else ()
    return Forecast(
        remaining=remaining,
        history=frozen,
        trials=trials,
        seed=seed,
        max_weeks=max_weeks,
        finished_weeks=finished,
    )
