"""A client's periodic digest: what was done, what comes next, promises kept and moved, corrections,
and risks.

Built from the same scoped reads as the client API, so a digest never holds more than the client
could read itself. A period holds what happened in it (`occurred_at` for the events it reads): a
change learned late appears in the digest of the period it happened in, whenever that digest is
built. Each section is in date order. Rendering (Markdown, email-ready HTML) is in
`service.feed.digest_render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from service.domain.enums import CommitmentOutcome, CommitmentSubject, DigestPeriod, FeedEventKind, Severity
from service.feed.pulses import Pulse, SatisfactionByDelivery, list_pending_pulses, satisfaction_by_delivery
from service.store.client_views import (
    ClientGrants,
    CommitmentView,
    list_commitments,
    list_milestones,
    list_open_risks,
    list_project_views,
)
from service.store.db import Session
from service.store.report_queries import list_events, list_items_done_between

# The feed's corrections of what it told before: an item, or a promise it had met, reopened.
CORRECTION_KINDS = (FeedEventKind.ITEM_REOPENED.value, FeedEventKind.COMMITMENT_REOPENED.value)
MAX_CORRECTIONS = 50


@dataclass(frozen=True, slots=True)
class DoneLine:
    project: str
    key: str
    title: str
    done_on: date


@dataclass(frozen=True, slots=True)
class NextLine:
    project: str
    title: str
    due: date
    promised: bool  # a date promised to the client, not only a planned one


@dataclass(frozen=True, slots=True)
class PromiseLine:
    project: str
    title: str
    baseline: date
    current: date | None
    slip_days: int
    delivered_on: date | None


@dataclass(frozen=True, slots=True)
class MoveLine:
    project: str
    title: str
    from_date: date | None
    to_date: date | None
    days: int
    moved_on: date


@dataclass(frozen=True, slots=True)
class CorrectionLine:
    """Something the feed had told that no longer holds, in the feed's words."""

    project: str
    text: str
    on: date


@dataclass(frozen=True, slots=True)
class RiskLine:
    project: str
    severity: Severity
    text: str


@dataclass(frozen=True, slots=True)
class Digest:
    client_name: str
    period: DigestPeriod
    start: date
    end: date  # inclusive
    done: list[DoneLine]
    next: list[NextLine]
    kept: list[PromiseLine]
    missed: list[PromiseLine]
    moved: list[MoveLine]
    corrections: list[CorrectionLine]
    risks: list[RiskLine]
    pulses: list[Pulse]
    satisfaction: SatisfactionByDelivery

    @property
    def is_quiet(self) -> bool:
        return not (self.done or self.kept or self.missed or self.moved or self.corrections)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _promise(view: CommitmentView, project: str) -> PromiseLine:
    c = view.commitment
    return PromiseLine(
        project=project,
        title=view.title,
        baseline=c.baseline_date,
        current=c.current_date,
        slip_days=c.slip_days,
        delivered_on=c.delivered_at.date() if c.delivered_at else None,
    )


def build_digest(
    session: Session, grants: ClientGrants, *, client_name: str, period: DigestPeriod, ending: date
) -> Digest:
    """The digest of the `period` that ends on `ending` (inclusive)."""
    start = ending - timedelta(days=period.days - 1)
    since, until = _midnight(start), _midnight(ending + timedelta(days=1))
    horizon = ending + timedelta(days=period.days)
    names = {view.project.id: view.project.name for view in list_project_views(session, grants)}

    def project(project_id: int | None) -> str:
        return names.get(project_id, "") if project_id is not None else ""

    done = [
        DoneLine(project=project(d.project_id), key=d.key, title=d.title, done_on=d.resolved_at.date())
        for d in list_items_done_between(session, grants, since=since, until=until)
    ]
    kept: list[PromiseLine] = []
    missed: list[PromiseLine] = []
    moved: list[MoveLine] = []
    upcoming: list[NextLine] = []
    promised_milestones: set[int] = set()
    for view in list_commitments(session, grants):
        c = view.commitment
        name = project(view.project_id)
        deadline = c.current_date or c.baseline_date
        outcome = c.outcome(ending)
        if c.subject is CommitmentSubject.MILESTONE:
            promised_milestones.add(c.subject_id)
        settled_on = c.delivered_at.date() if c.delivered_at else deadline + timedelta(days=1)
        if outcome is CommitmentOutcome.MET and start <= settled_on <= ending:
            kept.append(_promise(view, name))
        elif outcome is CommitmentOutcome.MISSED and start <= settled_on <= ending:
            missed.append(_promise(view, name))
        elif outcome is CommitmentOutcome.OPEN and deadline <= horizon:
            upcoming.append(NextLine(project=name, title=view.title, due=deadline, promised=True))
        moved += [
            MoveLine(
                project=name,
                title=view.title,
                from_date=m.from_date,
                to_date=m.to_date,
                days=m.days,
                moved_on=m.moved_at.date(),
            )
            for m in c.moves
            if m.days != 0 and since <= m.moved_at < until
        ]
    upcoming += [
        NextLine(project=project(m.project_id), title=m.name, due=m.due_date, promised=False)
        for m in list_milestones(session, grants)
        if m.due_date is not None
        and m.completed_at is None
        and m.id not in promised_milestones
        and ending < m.due_date <= horizon
    ]
    upcoming.sort(key=lambda line: (line.due, line.title))
    moved.sort(key=lambda line: (line.moved_on, line.title))
    corrections = [
        CorrectionLine(project=project(e.project_id), text=e.summary, on=e.occurred_at.date())
        for e in sorted(
            list_events(
                session,
                client_id=grants.client_id,
                project_ids=grants.project_ids,
                kinds=CORRECTION_KINDS,
                since=since,
                until=until,
                limit=MAX_CORRECTIONS,
            ),
            key=lambda e: (e.occurred_at, e.id),
        )
    ]
    risks = [
        RiskLine(project=project(r.project_id), severity=r.severity, text=r.text)
        for r in list_open_risks(session, grants)
    ]
    return Digest(
        client_name=client_name,
        period=period,
        start=start,
        end=ending,
        done=done,
        next=upcoming,
        kept=kept,
        missed=missed,
        moved=moved,
        corrections=corrections,
        risks=risks,
        pulses=list_pending_pulses(session, grants, since=since, until=until),
        satisfaction=satisfaction_by_delivery(session, grants, today=ending),
    )
