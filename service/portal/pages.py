"""What each portal page shows, read from the store within the client's scope.

Views here are plain data for the templates; nothing in them is outside what the client API would
return to the same client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from service.domain.enums import Severity
from service.domain.tenancy import Feedback
from service.feed.pulses import Pulse, list_pending_pulses
from service.feed.wording import STALE_AFTER, data_age, outcome_label, promise_status
from service.portal.burnup import BurnUpChart, build_burnup
from service.store.client_views import (
    ClientGrants,
    MilestoneView,
    ProgressCounts,
    list_commitments,
    list_milestones,
    list_open_risks,
    list_project_views,
    list_source_ids_of_projects,
)
from service.store.db import Connection, Session
from service.store.feed_queries import FeedEventRecord, list_source_freshness, read_latest_events
from service.store.report_queries import list_feedback, list_item_spans

RECENT_EVENTS = 10
RECENT_FEEDBACK = 5
# Pulses look back this far: a milestone completed last quarter is not worth asking about now.
PULSE_WINDOW = timedelta(days=60)
SEVERITY_WORDS = {Severity.INFO: "Note", Severity.WARNING: "Watch", Severity.CRITICAL: "Serious"}


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True, slots=True)
class MilestoneBar:
    id: int
    name: str
    due: date | None
    completed: bool
    progress: Progress


@dataclass(frozen=True, slots=True)
class ProjectCard:
    id: int
    key: str
    name: str
    progress: Progress
    milestones: list[MilestoneBar]


@dataclass(frozen=True, slots=True)
class Freshness:
    text: str
    stale: bool
    census_complete: bool


@dataclass(frozen=True, slots=True)
class PromiseRow:
    title: str
    promised: date
    now: date | None
    slips: int
    slip_days: int
    outcome: str
    status: str


@dataclass(frozen=True, slots=True)
class RiskRow:
    severity: str
    text: str


@dataclass(frozen=True, slots=True)
class EventRow:
    summary: str
    occurred_on: str


@dataclass(frozen=True, slots=True)
class Overview:
    projects: list[ProjectCard]
    pulses: list[Pulse]
    events: list[EventRow]
    feedback: list[Feedback]
    freshness: Freshness


@dataclass(frozen=True, slots=True)
class ProjectPage:
    project: ProjectCard
    promises: list[PromiseRow]
    burnup: BurnUpChart
    risks: list[RiskRow]
    events: list[EventRow]
    pulses: list[Pulse]
    freshness: Freshness


def _progress(counts: ProgressCounts) -> Progress:
    return Progress(done=counts.done, total=counts.total)


def _bar(view: MilestoneView) -> MilestoneBar:
    return MilestoneBar(
        id=view.id,
        name=view.name,
        due=view.due_date,
        completed=view.completed_at is not None or view.released,
        progress=_progress(view.counts),
    )


def _cards(session: Session, grants: ClientGrants, *, project_id: int | None = None) -> list[ProjectCard]:
    milestones = list_milestones(session, grants, project_id=project_id)
    cards = []
    for view in list_project_views(session, grants, project_id=project_id):
        assert view.project.id is not None
        cards.append(
            ProjectCard(
                id=view.project.id,
                key=view.project.key,
                name=view.project.name,
                progress=_progress(view.counts),
                milestones=[_bar(m) for m in milestones if m.project_id == view.project.id],
            )
        )
    return cards


def _freshness(session: Session, grants: ClientGrants, *, now: datetime) -> Freshness:
    sources = list_source_freshness(
        session, source_ids=list_source_ids_of_projects(session, project_ids=grants.project_ids)
    )
    synced = [s.last_synced_at for s in sources]
    if not sources or any(s is None for s in synced):
        return Freshness(text="not synced yet", stale=True, census_complete=False)
    oldest = min(s for s in synced if s is not None)
    return Freshness(
        text=data_age(oldest, now=now),
        stale=now - oldest > STALE_AFTER,
        census_complete=all(s.census_complete for s in sources),
    )


def _events(connection: Connection, grants: ClientGrants, *, project_ids: frozenset[int]) -> list[EventRow]:
    """The latest events published (the feed's newest), as a timeline: by when they happened, newest
    first, so a change learned late takes its place among the days around it."""
    records: list[FeedEventRecord] = read_latest_events(
        connection, client_id=grants.client_id, project_ids=project_ids, limit=RECENT_EVENTS
    )
    # Both are ISO 8601 in UTC with microseconds: they sort as text.
    records.sort(key=lambda r: (r.occurred_at, r.id), reverse=True)
    return [EventRow(summary=r.summary, occurred_on=r.occurred_at[:10]) for r in records]


def build_overview(session: Session, grants: ClientGrants, *, now: datetime) -> Overview:
    return Overview(
        projects=_cards(session, grants),
        pulses=list_pending_pulses(session, grants, since=now - PULSE_WINDOW),
        events=_events(session.connection(), grants, project_ids=grants.project_ids),
        feedback=list_feedback(session, client_id=grants.client_id, limit=RECENT_FEEDBACK),
        freshness=_freshness(session, grants, now=now),
    )


def build_project_page(
    session: Session, grants: ClientGrants, *, project_id: int, now: datetime
) -> ProjectPage | None:
    """The project's page, or None when it is not one of the client's projects."""
    if project_id not in grants.project_ids:
        return None
    cards = _cards(session, grants, project_id=project_id)
    if not cards:
        return None
    today = now.date()
    promises = [
        PromiseRow(
            title=view.title,
            promised=view.commitment.baseline_date,
            now=view.commitment.current_date,
            slips=view.commitment.slip_count,
            slip_days=view.commitment.slip_days,
            outcome=outcome_label(view.commitment, today=today),
            status=promise_status(view.commitment, today=today),
        )
        for view in list_commitments(session, grants, project_id=project_id)
    ]
    risks = [
        RiskRow(severity=SEVERITY_WORDS[r.severity], text=r.text)
        for r in list_open_risks(session, grants, project_id=project_id)
    ]
    pulses = [
        p
        for p in list_pending_pulses(session, grants, since=now - PULSE_WINDOW)
        if p.project_id == project_id
    ]
    return ProjectPage(
        project=cards[0],
        promises=promises,
        burnup=build_burnup(list_item_spans(session, grants, project_id=project_id), today=today),
        risks=risks,
        events=_events(session.connection(), grants, project_ids=frozenset({project_id})),
        pulses=pulses,
        freshness=_freshness(session, grants, now=now),
    )
