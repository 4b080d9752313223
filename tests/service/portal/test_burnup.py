from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from service.portal.burnup import MAX_POINTS, build_burnup, sample_days
from service.store.report_queries import ItemSpan

TODAY = date(2026, 11, 26)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_build_burnup_no_items_has_no_points() -> None:
    chart = build_burnup([], today=TODAY)

    assert chart.points == []
    assert chart.summary == "No work items yet."


def test_build_burnup_counts_scope_and_done_by_day() -> None:
    start = TODAY - timedelta(days=14)
    spans = [
        ItemSpan(created_at=_at(start), done_at=_at(start + timedelta(days=3))),
        ItemSpan(created_at=_at(start), done_at=None),
        ItemSpan(created_at=_at(start + timedelta(days=8)), done_at=_at(TODAY)),
    ]

    chart = build_burnup(spans, today=TODAY)

    assert [(p.day, p.scope, p.done) for p in chart.points] == [
        (start, 2, 0),
        (start + timedelta(days=7), 2, 1),
        (TODAY, 3, 2),
    ]
    assert chart.summary == f"2 of 3 items done by {TODAY}; the scope started at 2."


def test_build_burnup_paths_stay_inside_the_plot() -> None:
    spans = [ItemSpan(created_at=_at(TODAY - timedelta(days=n)), done_at=None) for n in range(40)]

    chart = build_burnup(spans, today=TODAY)

    for pair in chart.scope_path.split():
        x, y = (float(v) for v in pair.split(","))
        assert chart.left <= x <= chart.right
        assert chart.top <= y <= chart.bottom


def test_sample_days_long_history_capped_and_ends_today() -> None:
    days = sample_days(TODAY - timedelta(days=1000), TODAY)

    assert len(days) <= MAX_POINTS + 1
    assert days[-1] == TODAY
    assert days == sorted(days)
