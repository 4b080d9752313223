"""Delivery KPIs over what a client may see: schedule, cost, quality and satisfaction."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from service.domain.enums import CommitmentOutcome
from service.feed.pulses import SatisfactionByDelivery, satisfaction_by_delivery
from service.store.client_views import ClientGrants, items_in_scope, list_commitments
from service.store.db import Session
from service.store.kpi_queries import (
    DoneItem,
    Effort,
    count_bugs_found_after_done,
    count_reopened_and_done,
    count_seconds_logged,
    list_done_items,
    list_effort_by_milestone,
    list_effort_by_project,
    list_ratings,
)

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400
# The burn rate looks at the last four weeks of logged time: long enough to smooth a week off.
BURN_WINDOW_WEEKS = 4
BURN_WINDOW_DAYS = BURN_WINDOW_WEEKS * 7


@dataclass(frozen=True, slots=True)
class WeekCount:
    week_start: date
    done: int


@dataclass(frozen=True, slots=True)
class ScheduleKpis:
    commitments_met: int
    commitments_missed: int
    commitments_open: int
    on_time_rate: float | None
    average_slip_days: float | None
    total_slip_days: int
    throughput_per_week: list[WeekCount]
    cycle_time_median_days: float | None
    cycle_time_p85_days: float | None


@dataclass(frozen=True, slots=True)
class CostKpis:
    by_project: list[Effort]
    by_milestone: list[Effort]
    estimate_hours: float
    spent_hours: float
    spent_of_estimate: float | None
    burn_rate_hours_per_week: float


@dataclass(frozen=True, slots=True)
class QualityKpis:
    bugs_found_after_done: int
    reopened_items: int
    done_items: int
    reopen_rate: float | None


@dataclass(frozen=True, slots=True)
class SatisfactionKpis:
    responses: int
    average_rating: float | None
    distribution: dict[int, int]
    # Milestone ratings, by whether the milestone's promise was met or missed.
    by_delivery: SatisfactionByDelivery


@dataclass(frozen=True, slots=True)
class Kpis:
    schedule: ScheduleKpis
    cost: CostKpis
    quality: QualityKpis
    satisfaction: SatisfactionKpis


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def throughput(done: Sequence[DoneItem], *, today: date, weeks: int) -> list[WeekCount]:
    """Items done in each of the last `weeks` ISO weeks (Monday first), oldest first, this week included."""
    first = week_start(today) - timedelta(weeks=weeks - 1)
    counts = Counter(week_start(item.resolved_at.date()) for item in done if item.resolved_at.date() >= first)
    return [
        WeekCount(week_start=start, done=counts.get(start, 0))
        for start in (first + timedelta(weeks=n) for n in range(weeks))
    ]


def cycle_times_days(done: Sequence[DoneItem]) -> list[float]:
    """From the first status change (work started) to resolution; from creation when none is known."""
    times = []
    for item in done:
        start = item.started_at or item.created_at
        seconds = (item.resolved_at - start).total_seconds()
        if seconds >= 0:
            times.append(seconds / SECONDS_PER_DAY)
    return times


def burn_window(today: date) -> tuple[datetime, datetime]:
    """The last four weeks, today included, in UTC days: from the first instant to the end (exclusive)."""
    first = today - timedelta(days=BURN_WINDOW_DAYS - 1)
    return (
        datetime.combine(first, time(), tzinfo=UTC),
        datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC),
    )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _schedule(
    session: Session,
    grants: ClientGrants,
    *,
    project_id: int | None,
    today: date,
    weeks: int,
    done: Sequence[DoneItem],
) -> ScheduleKpis:
    commitments = [view.commitment for view in list_commitments(session, grants, project_id=project_id)]
    outcomes = Counter(c.outcome(today) for c in commitments)
    met, missed = outcomes[CommitmentOutcome.MET], outcomes[CommitmentOutcome.MISSED]
    total_slip = sum(c.slip_days for c in commitments)
    cycle = cycle_times_days(done)
    median = statistics.median(cycle) if cycle else None
    p85 = percentile(cycle, 0.85)
    return ScheduleKpis(
        commitments_met=met,
        commitments_missed=missed,
        commitments_open=outcomes[CommitmentOutcome.OPEN],
        on_time_rate=_rate(met, met + missed),
        average_slip_days=round(total_slip / len(commitments), 2) if commitments else None,
        total_slip_days=total_slip,
        throughput_per_week=throughput(done, today=today, weeks=weeks),
        cycle_time_median_days=round(median, 2) if median is not None else None,
        cycle_time_p85_days=round(p85, 2) if p85 is not None else None,
    )


def _cost(session: Session, grants: ClientGrants, *, project_ids: frozenset[int], today: date) -> CostKpis:
    visible = items_in_scope(session, grants, project_ids=project_ids)
    projects = list_effort_by_project(session, visible=visible)
    estimate = sum(e.estimate_seconds for e in projects)
    spent = sum(e.spent_seconds for e in projects)
    since, until = burn_window(today)
    logged = count_seconds_logged(session, visible=visible, since=since, until=until)
    return CostKpis(
        by_project=projects,
        by_milestone=list_effort_by_milestone(session, visible=visible),
        estimate_hours=round(estimate / SECONDS_PER_HOUR, 2),
        spent_hours=round(spent / SECONDS_PER_HOUR, 2),
        spent_of_estimate=_rate(spent, estimate),
        burn_rate_hours_per_week=round(logged / SECONDS_PER_HOUR / BURN_WINDOW_WEEKS, 2),
    )


def _satisfaction(session: Session, grants: ClientGrants, *, today: date) -> SatisfactionKpis:
    ratings = list_ratings(session, client_id=grants.client_id)
    distribution = Counter(ratings)
    return SatisfactionKpis(
        responses=len(ratings),
        average_rating=round(statistics.fmean(ratings), 2) if ratings else None,
        distribution={rating: distribution.get(rating, 0) for rating in range(1, 6)},
        by_delivery=satisfaction_by_delivery(session, grants, today=today),
    )


def compute_kpis(
    session: Session, grants: ClientGrants, *, project_id: int | None, today: date, weeks: int
) -> Kpis:
    """KPIs over the client's projects (or one of them); `weeks` of throughput history."""
    project_ids = grants.project_ids if project_id is None else grants.project_ids & {project_id}
    visible = items_in_scope(session, grants, project_ids=project_ids)
    done = list_done_items(session, visible=visible) if project_ids else []
    reopened, ever_done = count_reopened_and_done(session, visible=visible) if project_ids else (0, 0)
    return Kpis(
        schedule=_schedule(session, grants, project_id=project_id, today=today, weeks=weeks, done=done),
        cost=_cost(session, grants, project_ids=project_ids, today=today),
        quality=QualityKpis(
            bugs_found_after_done=count_bugs_found_after_done(session, visible=visible) if project_ids else 0,
            reopened_items=reopened,
            done_items=ever_done,
            reopen_rate=_rate(reopened, ever_done),
        ),
        satisfaction=_satisfaction(session, grants, today=today),
    )
