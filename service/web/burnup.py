"""The burn-up chart: scope (items known) against done over time, as coordinates for inline SVG.

Axis labels are laid out so that none reaches past the chart's viewBox, where the browser would clip
it: the first date is anchored at its start and the last at its end, a middle date is added only
where it clears both, and the margins are sized for the labels at the largest size the stylesheet
draws them (`.axis-label` in portal.css: larger on narrow screens, where the chart is scaled down).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from service.store.report_queries import ItemSpan

WIDTH = 640
HEIGHT = 260
# The largest font size, in chart units, portal.css gives `.axis-label` (on narrow screens).
LABEL_SIZE = 24
# The widest glyph of a label, in ems, in the sans-serif fonts pages use (DejaVu Sans digits are
# 0.636 em wide, Arial's 0.556); a label's height with its line gap is at most 1.25 em.
CHAR_EM = 0.65
LINE_EM = 1.25
# Between an axis and its labels, and between two dates.
TICK_GAP = 6
MARGIN_TOP = math.ceil(LABEL_SIZE * LINE_EM / 2) + 2
MARGIN_BOTTOM = TICK_GAP + math.ceil(LABEL_SIZE * LINE_EM) + 2
MARGIN_RIGHT = 12
# At most this many samples: weekly for half a year, coarser beyond, so the SVG stays small.
MAX_POINTS = 26
DATE_FORMAT = "%d %b"


def label_width(label: str) -> float:
    """How wide `label` can be drawn, in chart units, at the largest label size."""
    return len(label) * CHAR_EM * LABEL_SIZE


@dataclass(frozen=True, slots=True)
class BurnUpPoint:
    day: date
    scope: int
    done: int


@dataclass(frozen=True, slots=True)
class AxisTick:
    position: float
    label: str
    anchor: str = "middle"  # the SVG text-anchor: "start", "middle" or "end"


@dataclass(frozen=True, slots=True)
class BurnUpChart:
    points: list[BurnUpPoint]
    scope_path: str
    done_path: str
    x_ticks: list[AxisTick]
    y_ticks: list[AxisTick]
    left: int
    width: int = WIDTH
    height: int = HEIGHT
    bottom: int = HEIGHT - MARGIN_BOTTOM
    right: int = WIDTH - MARGIN_RIGHT
    top: int = MARGIN_TOP
    label_gap: int = TICK_GAP

    @property
    def summary(self) -> str:
        if not self.points:
            return "No work items yet."
        last = self.points[-1]
        first = self.points[0]
        return f"{last.done} of {last.scope} items done by {last.day}; the scope started at {first.scope}."


def sample_days(first: date, today: date) -> list[date]:
    """Evenly spaced days from `first` to `today` (both included), weekly unless that is too many."""
    span = max(0, (today - first).days)
    step = max(7, -(-span // (MAX_POINTS - 1)))
    days = [first + timedelta(days=n) for n in range(0, span, step)]
    return [*days, today]


def _left_margin(top_value: int) -> int:
    """Room for the widest count on the y axis, right-aligned a gap from the axis."""
    return TICK_GAP + math.ceil(label_width(str(top_value))) + 4


def _x_ticks(days: Sequence[date], x: Callable[[date], float]) -> list[AxisTick]:
    """The first and last dates, anchored inwards, and the middle one where it overlaps neither."""
    first, last = days[0], days[-1]
    ticks = [AxisTick(position=x(first), label=first.strftime(DATE_FORMAT), anchor="start")]
    if last == first:
        return ticks
    ticks.append(AxisTick(position=x(last), label=last.strftime(DATE_FORMAT), anchor="end"))
    middle = days[len(days) // 2]
    label = middle.strftime(DATE_FORMAT)
    half = label_width(label) / 2
    clears_first = x(middle) - half >= x(first) + label_width(ticks[0].label) + TICK_GAP
    clears_last = x(middle) + half <= x(last) - label_width(ticks[1].label) - TICK_GAP
    if middle not in (first, last) and clears_first and clears_last:
        ticks.insert(1, AxisTick(position=x(middle), label=label))
    return ticks


def build_burnup(spans: Sequence[ItemSpan], *, today: date) -> BurnUpChart:
    """Scope and done counted at the end of each sampled day, from the first item's creation to today."""
    if not spans:
        return BurnUpChart(
            points=[], scope_path="", done_path="", x_ticks=[], y_ticks=[], left=_left_margin(0)
        )
    first = min(span.created_at.date() for span in spans)
    points = [
        BurnUpPoint(
            day=day,
            scope=sum(1 for s in spans if s.created_at.date() <= day),
            done=sum(1 for s in spans if s.done_at is not None and s.done_at.date() <= day),
        )
        for day in sample_days(min(first, today), today)
    ]
    top_value = max(1, *(p.scope for p in points))
    chart = BurnUpChart(
        points=points, scope_path="", done_path="", x_ticks=[], y_ticks=[], left=_left_margin(top_value)
    )
    days_total = max(1, (today - points[0].day).days)

    def x(day: date) -> float:
        return round(chart.left + (chart.right - chart.left) * (day - points[0].day).days / days_total, 1)

    def y(value: int) -> float:
        return round(chart.bottom - (chart.bottom - chart.top) * value / top_value, 1)

    def path(values: list[int]) -> str:
        return " ".join(f"{x(p.day)},{y(v)}" for p, v in zip(points, values, strict=True))

    return BurnUpChart(
        points=points,
        scope_path=path([p.scope for p in points]),
        done_path=path([p.done for p in points]),
        x_ticks=_x_ticks([p.day for p in points], x),
        y_ticks=[
            AxisTick(position=y(v), label=str(v), anchor="end")
            for v in sorted({0, top_value // 2, top_value})
        ],
        left=chart.left,
    )
