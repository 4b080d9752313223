from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from service.store.report_queries import ItemSpan
from service.web.burnup import (
    LABEL_SIZE,
    LINE_EM,
    MAX_POINTS,
    AxisTick,
    build_burnup,
    label_width,
    sample_days,
)

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


def _extent(tick: AxisTick) -> tuple[float, float]:
    width = label_width(tick.label)
    start = {"start": tick.position, "middle": tick.position - width / 2, "end": tick.position - width}
    return start[tick.anchor], start[tick.anchor] + width


@pytest.mark.parametrize("items", [1, 9, 2000], ids=["one", "nine", "thousands"])
@pytest.mark.parametrize("days", [0, 8, 30, 400], ids=["today", "a-week-and-a-day", "a-month", "over-a-year"])
def test_build_burnup_labels_fit_the_view_box_at_the_largest_size(items: int, days: int) -> None:
    spans = [
        ItemSpan(created_at=_at(TODAY - timedelta(days=days * n // items)), done_at=None)
        for n in range(items)
    ]

    chart = build_burnup(spans, today=TODAY)

    line = LABEL_SIZE * LINE_EM
    for tick in chart.y_ticks:
        assert tick.anchor == "end"
        assert chart.left - chart.label_gap - label_width(tick.label) >= 0
        assert tick.position - line / 2 >= 0
    extents = [_extent(tick) for tick in chart.x_ticks]
    assert all(start >= 0 and end <= chart.width for start, end in extents)
    assert all(a[1] + chart.label_gap <= b[0] for a, b in pairwise(extents)), "dates overlap"
    assert chart.bottom + chart.label_gap + line <= chart.height


def test_build_burnup_first_and_last_dates_anchored_inwards() -> None:
    spans = [ItemSpan(created_at=_at(TODAY - timedelta(days=60)), done_at=None)]

    chart = build_burnup(spans, today=TODAY)

    assert [(t.label, t.anchor) for t in chart.x_ticks] == [
        ("27 Sep", "start"),
        ("01 Nov", "middle"),
        ("26 Nov", "end"),
    ]
    assert chart.x_ticks[0].position == chart.left
    assert chart.x_ticks[-1].position == chart.right


def test_build_burnup_middle_date_crowding_the_last_is_left_out() -> None:
    spans = [ItemSpan(created_at=_at(TODAY - timedelta(days=8)), done_at=None)]

    chart = build_burnup(spans, today=TODAY)

    assert [p.day for p in chart.points] == [TODAY - timedelta(days=8), TODAY - timedelta(days=1), TODAY]
    assert [t.anchor for t in chart.x_ticks] == ["start", "end"]


def test_build_burnup_left_margin_grows_with_the_widest_count() -> None:
    few = build_burnup([ItemSpan(created_at=_at(TODAY), done_at=None)], today=TODAY)
    many = build_burnup([ItemSpan(created_at=_at(TODAY), done_at=None)] * 1500, today=TODAY)

    assert many.left - few.left == pytest.approx(label_width("1500") - label_width("1"), abs=1)
