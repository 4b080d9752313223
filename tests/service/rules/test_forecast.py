from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.rules.forecast import forecast_completion, weekly_throughput

HISTORY = (3, 5, 2, 6, 4, 0, 5, 3)


def test_forecast_completion_same_seed_same_result() -> None:
    first = forecast_completion(30, HISTORY, trials=500, seed=11)
    second = forecast_completion(30, list(HISTORY), trials=500, seed=11)

    assert first == second
    assert (first.weeks_at(50), first.weeks_at(85)) == (second.weeks_at(50), second.weeks_at(85))


def test_forecast_completion_different_seed_may_differ_but_stays_close() -> None:
    a = forecast_completion(30, HISTORY, trials=2000, seed=1)
    b = forecast_completion(30, HISTORY, trials=2000, seed=2)

    assert a.finished_weeks != b.finished_weeks
    assert abs((a.weeks_at(85) or 0) - (b.weeks_at(85) or 0)) <= 1


@settings(max_examples=40, deadline=None)
@given(
    remaining=st.integers(min_value=1, max_value=60),
    history=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=12),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_forecast_completion_85_date_never_before_50_date(
    remaining: int, history: list[int], seed: int
) -> None:
    forecast = forecast_completion(remaining, history, trials=200, seed=seed)
    start = date(2026, 3, 2)

    p50, p85 = forecast.date_at(50, start), forecast.date_at(85, start)

    if p85 is not None:
        assert p50 is not None
        assert p85 >= p50


def test_forecast_completion_steady_pace_is_exact() -> None:
    forecast = forecast_completion(12, (4, 4, 4), trials=100, seed=0)

    assert (forecast.weeks_at(50), forecast.weeks_at(85), forecast.linear_weeks) == (3, 3, 3.0)
    assert forecast.date_at(85, date(2026, 3, 2)) == date(2026, 3, 23)


def test_forecast_completion_no_throughput_has_no_date() -> None:
    forecast = forecast_completion(5, (0, 0, 0), trials=100, seed=0)

    assert (forecast.weeks_at(50), forecast.linear_weeks, forecast.linear_date(date(2026, 3, 2))) == (
        None,
        None,
        None,
    )


def test_forecast_completion_nothing_left_is_done_now() -> None:
    assert forecast_completion(0, HISTORY).weeks_at(85) == 0


def test_forecast_completion_zero_trials_refused() -> None:
    with pytest.raises(ValueError, match="trials"):
        forecast_completion(5, HISTORY, trials=0)


def test_weekly_throughput_counts_per_week_oldest_first() -> None:
    as_of = datetime(2026, 3, 29, tzinfo=UTC)
    done = [as_of - timedelta(days=d) for d in (0.5, 1, 8, 9, 10, 20, 40)] + [as_of + timedelta(days=1)]

    assert weekly_throughput(done, as_of=as_of, weeks=4) == (0, 1, 3, 2)
