"""The burn-up chart: scope (items known) against done over time, as coordinates for inline SVG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from service.store.report_queries import ItemSpan

WIDTH = 640
HEIGHT = 240
MARGIN_LEFT = 44
MARGIN_BOTTOM = 28
MARGIN_TOP = 12
MARGIN_RIGHT = 12
# At most this many samples: weekly for half a year, coarser beyond, so the SVG stays small.
MAX_POINTS = 26


@dataclass(frozen=True, slots=True)
class BurnUpPoint:
    day: date
    scope: int
    done: int


@dataclass(frozen=True, slots=True)
class AxisTick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class BurnUpChart:
    points: list[BurnUpPoint]
    scope_path: str
    done_path: str
    x_ticks: list[AxisTick]
    y_ticks: list[AxisTick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = MARGIN_LEFT
    bottom: int = HEIGHT - MARGIN_BOTTOM
    right: int = WIDTH - MARGIN_RIGHT
    top: int = MARGIN_TOP

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


def build_burnup(spans: Sequence[ItemSpan], *, today: date) -> BurnUpChart:
    """Scope and done counted at the end of each sampled day, from the first item's creation to today."""
    if not spans:
        return BurnUpChart(points=[], scope_path="", done_path="", x_ticks=[], y_ticks=[])
    first = min(span.created_at.date() for span in spans)
    points = [
        BurnUpPoint(
            day=day,
            scope=sum(1 for s in spans if s.created_at.date() <= day),
            done=sum(1 for s in spans if s.done_at is not None and s.done_at.date() <= day),
        )
        for day in sample_days(min(first, today), today)
    ]
    chart = BurnUpChart(points=points, scope_path="", done_path="", x_ticks=[], y_ticks=[])
    top_value = max(1, *(p.scope for p in points))
    days_total = max(1, (today - points[0].day).days)

    def x(day: date) -> float:
        return round(chart.left + (chart.right - chart.left) * (day - points[0].day).days / days_total, 1)

    def y(value: int) -> float:
        return round(chart.bottom - (chart.bottom - chart.top) * value / top_value, 1)

    def path(values: list[int]) -> str:
        return " ".join(f"{x(p.day)},{y(v)}" for p, v in zip(points, values, strict=True))

    middle = points[len(points) // 2].day
    x_days = sorted({points[0].day, middle, today})
    return BurnUpChart(
        points=points,
        scope_path=path([p.scope for p in points]),
        done_path=path([p.done for p in points]),
        x_ticks=[AxisTick(position=x(day), label=day.strftime("%d %b")) for day in x_days],
        y_ticks=[AxisTick(position=y(v), label=str(v)) for v in sorted({0, top_value // 2, top_value})],
    )
