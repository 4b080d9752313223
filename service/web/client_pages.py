"""What each portal page shows, read from the store within the client's scope.

Views here are plain data for the templates; nothing in them is outside what the client API would
return to the same client. Texts that name work items name them as people know them
(`service.web.names`), and a milestone with none of the client's items is left out rather than
shown as "0 of 0 done".
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from service.domain.enums import CommitmentSubject, FeedbackSubject, Severity
from service.domain.tenancy import Feedback
from service.domain.work import Project
from service.feed.pulses import Pulse, list_pending_pulses
from service.feed.wording import STALE_AFTER, data_age, outcome_label, promise_status
from service.store.client_views import (
    ClientGrants,
    CommitmentView,
    MilestoneView,
    ProgressCounts,
    list_commitments,
    list_milestones,
    list_open_risks,
    list_project_views,
    list_source_ids_of_projects,
)
from service.store.db import Session
from service.store.feed_queries import (
    FeedEventRecord,
    SourceFreshness,
    list_source_freshness,
    read_latest_events,
)
from service.store.projects import list_projects
from service.store.report_queries import list_feedback, list_item_spans
from service.web.burnup import BurnUpChart, build_burnup
from service.web.names import Naming, keys_read_by_people

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
    key: str  # "" where people do not read the project's key (a Trello board's shortLink)
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


def risk_row(severity: Severity, text: str) -> RiskRow:
    """A risk as the portal shows it: the console's preview of a publish reads the same."""
    return RiskRow(severity=SEVERITY_WORDS[severity], text=text)


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


def _cards(
    session: Session, grants: ClientGrants, namings: dict[int, Naming], *, project_id: int | None = None
) -> list[ProjectCard]:
    milestones = list_milestones(session, grants, project_id=project_id)
    cards = []
    for view in list_project_views(session, grants, project_id=project_id):
        assert view.project.id is not None
        naming = namings.get(view.project.id)
        cards.append(
            ProjectCard(
                id=view.project.id,
                key=naming.shown_project_key if naming else view.project.key,
                name=view.project.name,
                progress=_progress(view.counts),
                # A milestone holding none of the client's items says nothing but its name.
                milestones=[
                    _bar(m) for m in milestones if m.project_id == view.project.id and m.counts.total
                ],
            )
        )
    return cards


def _sources(session: Session, grants: ClientGrants) -> list[SourceFreshness]:
    return list_source_freshness(
        session, source_ids=list_source_ids_of_projects(session, project_ids=grants.project_ids)
    )


def _freshness(sources: Sequence[SourceFreshness], *, now: datetime) -> Freshness:
    synced = [s.last_synced_at for s in sources]
    if not sources or any(s is None for s in synced):
        return Freshness(text="not synced yet", stale=True, census_complete=False)
    oldest = min(s for s in synced if s is not None)
    return Freshness(
        text=data_age(oldest, now=now),
        stale=now - oldest > STALE_AFTER,
        census_complete=all(s.census_complete for s in sources),
    )


def _event_titles(records: Sequence[FeedEventRecord]) -> dict[tuple[int, str], str]:
    """Item titles carried by the client's own events (`item_done` holds its item's key and title)."""
    titles: dict[tuple[int, str], str] = {}
    for record in records:
        payload = json.loads(record.payload_json) if record.payload_json else None
        if record.project_id is None or not isinstance(payload, dict):
            continue
        key, title = payload.get("item"), payload.get("title")
        if isinstance(key, str) and isinstance(title, str) and title:
            titles[(record.project_id, key)] = title
    return titles


def _namings(
    session: Session,
    grants: ClientGrants,
    sources: Sequence[SourceFreshness],
    *,
    project_id: int | None = None,
    commitments: Sequence[CommitmentView] | None = None,
    records: Sequence[FeedEventRecord] = (),
) -> dict[int, Naming]:
    """How each of the client's projects (or the one asked for) names its items.

    Titles come from the client's scoped commitments (read here unless given) and its own events.
    """
    ids = grants.project_ids if project_id is None else grants.project_ids & {project_id}
    projects: list[Project] = list_projects(session, project_ids=ids) if ids else []
    kinds = {source.source_id: source.kind for source in sources}
    unkeyed = {
        p.id
        for p in projects
        if p.source_id in kinds and not keys_read_by_people(kinds[p.source_id]) and p.id is not None
    }
    titles: dict[int, dict[str, str]] = defaultdict(dict)
    if unkeyed:
        for (event_project, key), title in _event_titles(records).items():
            titles[event_project][key] = title
        views = (
            commitments
            if commitments is not None
            else list_commitments(session, grants, project_id=project_id)
        )
        for view in views:
            if view.project_id in unkeyed and view.commitment.subject is CommitmentSubject.ITEM:
                # The store titles an item's commitment "<key> <title>"; a key holds no space.
                key, _, title = view.title.partition(" ")
                titles[view.project_id][key] = title
    return {
        p.id: Naming(project_key=p.key, keys_shown=p.id not in unkeyed, titles=titles.get(p.id, {}))
        for p in projects
        if p.id is not None
    }


def _named(text: str, project_id: int | None, namings: dict[int, Naming]) -> str:
    naming = namings.get(project_id) if project_id is not None else None
    return naming.name(text) if naming else text


def _events(records: Sequence[FeedEventRecord], namings: dict[int, Naming]) -> list[EventRow]:
    """The latest events published (the feed's newest), as a timeline: by when they happened, newest
    first, so a change learned late takes its place among the days around it."""
    # Both are ISO 8601 in UTC with microseconds: they sort as text.
    timeline = sorted(records, key=lambda r: (r.occurred_at, r.id), reverse=True)
    return [
        EventRow(summary=_named(r.summary, r.project_id, namings), occurred_on=r.occurred_at[:10])
        for r in timeline
    ]


def _named_pulses(pulses: Sequence[Pulse], namings: dict[int, Naming]) -> list[Pulse]:
    """A slipped promise's pulse is titled by its event's summary, which may name an item by key."""
    return [
        replace(p, title=_named(p.title, p.project_id, namings)) if p.subject is FeedbackSubject.EVENT else p
        for p in pulses
    ]


def list_named_pulses(session: Session, grants: ClientGrants, *, now: datetime) -> list[Pulse]:
    """The client's pending pulses, with items named as people know them."""
    pulses = list_pending_pulses(session, grants, since=now - PULSE_WINDOW)
    if not any(p.subject is FeedbackSubject.EVENT for p in pulses):
        return pulses
    return _named_pulses(pulses, _namings(session, grants, _sources(session, grants)))


def build_overview(session: Session, grants: ClientGrants, *, now: datetime) -> Overview:
    sources = _sources(session, grants)
    records = read_latest_events(
        session.connection(), client_id=grants.client_id, project_ids=grants.project_ids, limit=RECENT_EVENTS
    )
    namings = _namings(session, grants, sources, records=records)
    return Overview(
        projects=_cards(session, grants, namings),
        pulses=_named_pulses(list_pending_pulses(session, grants, since=now - PULSE_WINDOW), namings),
        events=_events(records, namings),
        feedback=list_feedback(session, client_id=grants.client_id, limit=RECENT_FEEDBACK),
        freshness=_freshness(sources, now=now),
    )


def build_project_page(
    session: Session, grants: ClientGrants, *, project_id: int, now: datetime
) -> ProjectPage | None:
    """The project's page, or None when it is not one of the client's projects."""
    if project_id not in grants.project_ids:
        return None
    sources = _sources(session, grants)
    records = read_latest_events(
        session.connection(),
        client_id=grants.client_id,
        project_ids=frozenset({project_id}),
        limit=RECENT_EVENTS,
    )
    commitments = list_commitments(session, grants, project_id=project_id)
    namings = _namings(
        session, grants, sources, project_id=project_id, commitments=commitments, records=records
    )
    cards = _cards(session, grants, namings, project_id=project_id)
    if not cards:
        return None
    today = now.date()
    promises = [
        PromiseRow(
            title=_named(view.title, project_id, namings)
            if view.commitment.subject is CommitmentSubject.ITEM
            else view.title,
            promised=view.commitment.baseline_date,
            now=view.commitment.current_date,
            slips=view.commitment.slip_count,
            slip_days=view.commitment.slip_days,
            outcome=outcome_label(view.commitment, today=today),
            status=promise_status(view.commitment, today=today),
        )
        for view in commitments
    ]
    risks = [risk_row(r.severity, r.text) for r in list_open_risks(session, grants, project_id=project_id)]
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
        events=_events(records, namings),
        pulses=_named_pulses(pulses, namings),
        freshness=_freshness(sources, now=now),
    )
