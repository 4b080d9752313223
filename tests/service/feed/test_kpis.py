from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from service.feed.kpis import cycle_times_days, percentile, throughput, week_start
from service.store.kpi_queries import DoneItem

MONDAY = date(2026, 9, 7)


def _done(
    resolved: datetime, *, created: datetime | None = None, started: datetime | None = None
) -> DoneItem:
    return DoneItem(
        item_id=1,
        created_at=created or resolved - timedelta(days=10),
        resolved_at=resolved,
        started_at=started,
    )


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([4.0], 0.85, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 0.85, 4.4),
    ],
    ids=["empty", "single", "median-even", "p85"],
)
def test_percentile_interpolates_between_ranks(
    values: list[float], fraction: float, expected: float | None
) -> None:
    result = percentile(values, fraction)

    assert result == pytest.approx(expected) if expected is not None else result is None


def test_week_start_is_monday() -> None:
    assert week_start(date(2026, 9, 13)) == MONDAY


def test_throughput_counts_per_week_oldest_first_with_empty_weeks() -> None:
    at = datetime(2026, 9, 8, 12, tzinfo=UTC)
    done = [_done(at), _done(at), _done(at - timedelta(weeks=2)), _done(at - timedelta(weeks=9))]

    weeks = throughput(done, today=date(2026, 9, 10), weeks=3)

    assert [(w.week_start, w.done) for w in weeks] == [
        (MONDAY - timedelta(weeks=2), 1),
        (MONDAY - timedelta(weeks=1), 0),
        (MONDAY, 2),
    ]


def test_cycle_time_starts_at_the_first_status_change() -> None:
    resolved = datetime(2026, 9, 8, tzinfo=UTC)

    times = cycle_times_days([_done(resolved, started=resolved - timedelta(days=2)), _done(resolved)])

    assert times == [2.0, 10.0]
