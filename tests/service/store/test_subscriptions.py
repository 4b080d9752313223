from __future__ import annotations

from datetime import timedelta

import pytest

from service.store.subscriptions import backoff


def _ceiling(low: float, high: float) -> float:
    return high


@pytest.mark.parametrize(
    ("attempts", "ceiling"),
    [
        (1, timedelta(seconds=30)),
        (2, timedelta(seconds=60)),
        (5, timedelta(minutes=8)),
        (40, timedelta(hours=1)),
    ],
    ids=["first", "second", "fifth", "capped"],
)
def test_backoff_ceiling_doubles_up_to_an_hour(attempts: int, ceiling: timedelta) -> None:
    assert backoff(attempts, jitter=_ceiling) == ceiling


def test_backoff_jitter_draws_between_zero_and_the_ceiling() -> None:
    bounds: list[tuple[float, float]] = []

    def record(low: float, high: float) -> float:
        bounds.append((low, high))
        return low

    wait = backoff(3, jitter=record)

    assert (wait, bounds) == (timedelta(0), [(0.0, 120.0)])
