"""Feedback pulses: the moments a client is asked for a 1-5 rating, and what its ratings say.

A pulse is due when a milestone of the client's completes or a promise to it slips (a
`commitment_moved` event), until the client rates that milestone or event. Satisfaction is then set
against delivery: ratings of work delivered on its promised date against ratings of late work,
whether the client rated the milestone itself or an event about an item or milestone (the item's or
milestone's promise decides).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from service.domain.enums import CommitmentOutcome, CommitmentSubject, FeedbackSubject, FeedEventKind
from service.store.client_views import ClientGrants, list_commitments, list_milestones
from service.store.db import Session
from service.store.report_queries import (
    list_event_subjects,
    list_events,
    list_feedback,
    list_rated_subjects,
)

MAX_PULSES = 10
# Ratings considered when relating satisfaction to delivery: enough for years of milestones.
MAX_RATINGS_CONSIDERED = 1000


class PulseReason(StrEnum):
    MILESTONE_COMPLETED = "milestone_completed"
    PROMISE_SLIPPED = "promise_slipped"


@dataclass(frozen=True, slots=True)
class Pulse:
    subject: FeedbackSubject
    subject_id: int
    project_id: int
    title: str
    reason: PulseReason
    occurred_at: datetime

    @property
    def question(self) -> str:
        if self.reason is PulseReason.MILESTONE_COMPLETED:
            return f"{self.title} is complete. How satisfied are you with it?"
        return f"A date we promised moved: {self.title}. How do you feel about how we handled it?"


@dataclass(frozen=True, slots=True)
class RatingGroup:
    responses: int
    average: float | None


@dataclass(frozen=True, slots=True)
class SatisfactionByDelivery:
    on_time: RatingGroup
    late: RatingGroup


def list_pending_pulses(
    session: Session,
    grants: ClientGrants,
    *,
    since: datetime,
    until: datetime | None = None,
    limit: int = MAX_PULSES,
) -> list[Pulse]:
    """Milestones completed and promises slipped in [since, until) that the client has not rated yet,
    newest first."""
    rated = list_rated_subjects(session, client_id=grants.client_id)
    pulses = [
        Pulse(
            subject=FeedbackSubject.MILESTONE,
            subject_id=m.id,
            project_id=m.project_id,
            title=m.name,
            reason=PulseReason.MILESTONE_COMPLETED,
            occurred_at=m.completed_at,
        )
        for m in list_milestones(session, grants)
        if m.completed_at is not None
        and m.completed_at >= since
        and (until is None or m.completed_at < until)
        and (FeedbackSubject.MILESTONE, m.id) not in rated
    ]
    events = list_events(
        session,
        client_id=grants.client_id,
        project_ids=grants.project_ids,
        kinds=[FeedEventKind.COMMITMENT_MOVED.value],
        since=since,
        until=until,
        limit=limit,
    )
    pulses += [
        Pulse(
            subject=FeedbackSubject.EVENT,
            subject_id=e.id,
            project_id=e.project_id,
            title=e.summary,
            reason=PulseReason.PROMISE_SLIPPED,
            occurred_at=e.occurred_at,
        )
        for e in events
        if e.project_id is not None and (FeedbackSubject.EVENT, e.id) not in rated
    ]
    pulses.sort(key=lambda p: p.occurred_at, reverse=True)
    return pulses[:limit]


def _group(ratings: list[int]) -> RatingGroup:
    return RatingGroup(
        responses=len(ratings), average=round(statistics.fmean(ratings), 2) if ratings else None
    )


def satisfaction_by_delivery(
    session: Session, grants: ClientGrants, *, today: date
) -> SatisfactionByDelivery:
    """Average ratings of milestones and of events, split by whether the promise of what they are
    about (the milestone, or the event's item or milestone) was met or missed; ratings of anything
    without an ended promise are left out."""
    outcomes = {
        (view.commitment.subject, view.commitment.subject_id): view.commitment.outcome(today)
        for view in list_commitments(session, grants)
    }
    feedback = list_feedback(session, client_id=grants.client_id, limit=MAX_RATINGS_CONSIDERED)
    events = list_event_subjects(
        session,
        grants,
        event_ids=[f.subject_id for f in feedback if f.subject is FeedbackSubject.EVENT and f.subject_id],
    )
    on_time: list[int] = []
    late: list[int] = []
    for rating in feedback:
        if rating.subject_id is None:
            continue
        about: tuple[CommitmentSubject, int] | None = None
        if rating.subject is FeedbackSubject.MILESTONE:
            about = (CommitmentSubject.MILESTONE, rating.subject_id)
        elif rating.subject is FeedbackSubject.EVENT and rating.subject_id in events:
            event = events[rating.subject_id]
            about = (event.subject, event.subject_id)
        outcome = outcomes.get(about) if about is not None else None
        if outcome is CommitmentOutcome.MET:
            on_time.append(rating.rating)
        elif outcome is CommitmentOutcome.MISSED:
            late.append(rating.rating)
    return SatisfactionByDelivery(on_time=_group(on_time), late=_group(late))
