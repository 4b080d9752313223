"""KPIs as served under /v1/kpis."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from service.api.schemas.common import FreshnessOut
from service.feed.kpis import Kpis
from service.store.kpi_queries import Effort

_HOUR = 3600


class WeekCountOut(BaseModel):
    week_start: date
    done: int


class ScheduleOut(BaseModel):
    commitments_met: int
    commitments_missed: int
    commitments_open: int
    on_time_rate: float | None = Field(description="Met over met and missed; null before any is decided.")
    average_slip_days: float | None
    total_slip_days: int
    throughput_per_week: list[WeekCountOut]
    cycle_time_median_days: float | None
    cycle_time_p85_days: float | None


class EffortOut(BaseModel):
    id: int = Field(description="The project's (or milestone's) id.")
    name: str = Field(description="The project's (or milestone's) name.")
    estimate_hours: float
    spent_hours: float = Field(description="Items' worklogs where they have any, else their time spent.")
    items: int
    items_estimated: int


class CostOut(BaseModel):
    estimate_hours: float
    spent_hours: float = Field(description="Items' worklogs where they have any, else their time spent.")
    spent_of_estimate: float | None
    burn_rate_hours_per_week: float = Field(
        description="Hours of the worklogs started in the last four weeks (today included), over four."
    )
    by_project: list[EffortOut]
    by_milestone: list[EffortOut]


class QualityOut(BaseModel):
    bugs_found_after_done: int
    reopened_items: int
    done_items: int
    reopen_rate: float | None


class RatingGroupOut(BaseModel):
    responses: int
    average_rating: float | None


class SatisfactionByDeliveryOut(BaseModel):
    on_time: RatingGroupOut = Field(
        description="Ratings of milestones, and of events on items or milestones, whose promise was met."
    )
    late: RatingGroupOut = Field(
        description="Ratings of milestones, and of events on items or milestones, whose promise was missed."
    )


class SatisfactionOut(BaseModel):
    responses: int
    average_rating: float | None
    distribution: dict[str, int]
    by_delivery: SatisfactionByDeliveryOut


class KpisOut(BaseModel):
    schedule: ScheduleOut
    cost: CostOut
    quality: QualityOut
    satisfaction: SatisfactionOut
    freshness: FreshnessOut


def _effort(effort: Effort) -> EffortOut:
    return EffortOut(
        id=effort.key,
        name=effort.name,
        estimate_hours=round(effort.estimate_seconds / _HOUR, 2),
        spent_hours=round(effort.spent_seconds / _HOUR, 2),
        items=effort.items,
        items_estimated=effort.items_estimated,
    )


def kpis_out(kpis: Kpis, *, freshness: FreshnessOut) -> KpisOut:
    s, c, q, f = kpis.schedule, kpis.cost, kpis.quality, kpis.satisfaction
    return KpisOut(
        schedule=ScheduleOut(
            commitments_met=s.commitments_met,
            commitments_missed=s.commitments_missed,
            commitments_open=s.commitments_open,
            on_time_rate=s.on_time_rate,
            average_slip_days=s.average_slip_days,
            total_slip_days=s.total_slip_days,
            throughput_per_week=[
                WeekCountOut(week_start=w.week_start, done=w.done) for w in s.throughput_per_week
            ],
            cycle_time_median_days=s.cycle_time_median_days,
            cycle_time_p85_days=s.cycle_time_p85_days,
        ),
        cost=CostOut(
            estimate_hours=c.estimate_hours,
            spent_hours=c.spent_hours,
            spent_of_estimate=c.spent_of_estimate,
            burn_rate_hours_per_week=c.burn_rate_hours_per_week,
            by_project=[_effort(e) for e in c.by_project],
            by_milestone=[_effort(e) for e in c.by_milestone],
        ),
        quality=QualityOut(
            bugs_found_after_done=q.bugs_found_after_done,
            reopened_items=q.reopened_items,
            done_items=q.done_items,
            reopen_rate=q.reopen_rate,
        ),
        satisfaction=SatisfactionOut(
            responses=f.responses,
            average_rating=f.average_rating,
            distribution={str(rating): count for rating, count in f.distribution.items()},
            by_delivery=SatisfactionByDeliveryOut(
                on_time=RatingGroupOut(
                    responses=f.by_delivery.on_time.responses, average_rating=f.by_delivery.on_time.average
                ),
                late=RatingGroupOut(
                    responses=f.by_delivery.late.responses, average_rating=f.by_delivery.late.average
                ),
            ),
        ),
        freshness=freshness,
    )
