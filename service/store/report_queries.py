"""Reads behind the client portal and the digest: item spans, items done, feedback given, events
and what they are about.

Like `client_views`, every item query takes the client's grants and filters by them in SQL.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import CommitmentSubject, FeedbackSubject, StatusCategory
from service.domain.tenancy import Feedback
from service.store.client_views import ClientGrants, visible_items
from service.store.orm import FeedbackRow, FeedEventRow, MilestoneRow, WorkItemRow


@dataclass(frozen=True, slots=True)
class ItemSpan:
    """When an item entered the scope of work, and when it was done (None while it is not)."""

    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class DoneItemRef:
    item_id: int
    project_id: int
    key: str
    title: str
    resolved_at: datetime


@dataclass(frozen=True, slots=True)
class EventRef:
    id: int
    project_id: int | None
    kind: str
    summary: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class EventSubject:
    """The item or milestone an event is about: a promise's subject, so its outcome can be found."""

    subject: CommitmentSubject
    subject_id: int


def list_item_spans(session: Session, grants: ClientGrants, *, project_id: int) -> list[ItemSpan]:
    """Every visible item of one project (in the client's scope) with its creation and done times."""
    if project_id not in grants.project_ids:
        return []
    rows = session.execute(
        select(WorkItemRow.created_at, WorkItemRow.resolved_at, WorkItemRow.status_category).where(
            visible_items(session, grants), WorkItemRow.project_id == project_id
        )
    )
    return [
        ItemSpan(
            created_at=created,
            done_at=resolved if resolved is not None and category == StatusCategory.DONE.value else None,
        )
        for created, resolved, category in rows
    ]


def list_items_done_between(
    session: Session, grants: ClientGrants, *, since: datetime, until: datetime
) -> list[DoneItemRef]:
    """Visible items done now and resolved in [since, until), oldest first."""
    if not grants.project_ids:
        return []
    rows = session.execute(
        select(
            WorkItemRow.id,
            WorkItemRow.project_id,
            WorkItemRow.key,
            WorkItemRow.title,
            WorkItemRow.resolved_at,
        )
        .where(
            visible_items(session, grants),
            WorkItemRow.project_id.in_(grants.project_ids),
            WorkItemRow.status_category == StatusCategory.DONE.value,
            WorkItemRow.resolved_at >= since,
            WorkItemRow.resolved_at < until,
        )
        .order_by(WorkItemRow.resolved_at, WorkItemRow.id)
    )
    return [
        DoneItemRef(item_id=i, project_id=p, key=k, title=t, resolved_at=r)
        for i, p, k, t, r in rows
        if r is not None
    ]


def _feedback(row: FeedbackRow) -> Feedback:
    return Feedback(
        id=row.id,
        client_id=row.client_id,
        subject=FeedbackSubject(row.subject),
        subject_id=row.subject_id,
        period_start=row.period_start,
        period_end=row.period_end,
        rating=row.rating,
        comment=row.comment,
        created_at=row.created_at,
    )


def list_feedback(session: Session, *, client_id: int, limit: int) -> list[Feedback]:
    """The client's newest feedback first."""
    query = (
        select(FeedbackRow)
        .where(FeedbackRow.client_id == client_id)
        .order_by(FeedbackRow.created_at.desc(), FeedbackRow.id.desc())
        .limit(limit)
    )
    return [_feedback(row) for row in session.scalars(query)]


def list_rated_subjects(session: Session, *, client_id: int) -> frozenset[tuple[FeedbackSubject, int]]:
    """The milestones and events this client has rated already."""
    rows = session.execute(
        select(FeedbackRow.subject, FeedbackRow.subject_id).where(
            FeedbackRow.client_id == client_id, FeedbackRow.subject_id.is_not(None)
        )
    )
    return frozenset((FeedbackSubject(subject), subject_id) for subject, subject_id in rows if subject_id)


def list_events(
    session: Session,
    *,
    client_id: int,
    project_ids: Collection[int],
    kinds: Collection[str],
    since: datetime,
    until: datetime | None = None,
    limit: int,
) -> list[EventRef]:
    """The client's events of these kinds in [since, until), on projects still in scope, newest first."""
    if not project_ids or not kinds:
        return []
    query = (
        select(
            FeedEventRow.id,
            FeedEventRow.project_id,
            FeedEventRow.kind,
            FeedEventRow.summary,
            FeedEventRow.occurred_at,
        )
        .where(
            FeedEventRow.client_id == client_id,
            FeedEventRow.project_id.in_(list(project_ids)),
            FeedEventRow.kind.in_(list(kinds)),
            FeedEventRow.occurred_at >= since,
        )
        .order_by(FeedEventRow.id.desc())
        .limit(limit)
    )
    if until is not None:
        query = query.where(FeedEventRow.occurred_at < until)
    rows = session.execute(query)
    return [EventRef(id=i, project_id=p, kind=k, summary=s, occurred_at=o) for i, p, k, s, o in rows]


def list_event_subjects(
    session: Session, grants: ClientGrants, *, event_ids: Collection[int]
) -> dict[int, EventSubject]:
    """What each of the client's events is about, by event id, where it is in the client's scope.

    An event names its subject in its payload as the client reads it: an item by key (`"item"`: item
    done or reopened, a promise moved, met, missed or reopened), a milestone by name
    (`"milestone"`: its progress). Events naming neither (risks) are left out, and so is a name
    that is ambiguous in its project.
    """
    if not event_ids or not grants.project_ids:
        return {}
    events = session.execute(
        select(FeedEventRow.id, FeedEventRow.project_id, FeedEventRow.payload).where(
            FeedEventRow.client_id == grants.client_id,
            FeedEventRow.id.in_(list(event_ids)),
            FeedEventRow.project_id.in_(grants.project_ids),
        )
    ).all()
    named: dict[int, tuple[CommitmentSubject, int, str]] = {}
    for event_id, project_id, payload in events:
        if isinstance(payload.get("item"), str):
            named[event_id] = (CommitmentSubject.ITEM, project_id, payload["item"])
        elif isinstance(payload.get("milestone"), str):
            named[event_id] = (CommitmentSubject.MILESTONE, project_id, payload["milestone"])
    if not named:
        return {}
    projects = {project_id for _s, project_id, _n in named.values()}
    names = {name for _s, _p, name in named.values()}
    found: dict[tuple[CommitmentSubject, int, str], list[int]] = {}
    items = select(WorkItemRow.id, WorkItemRow.project_id, WorkItemRow.key).where(
        visible_items(session, grants), WorkItemRow.project_id.in_(projects), WorkItemRow.key.in_(names)
    )
    for item_id, project_id, key in session.execute(items):
        found.setdefault((CommitmentSubject.ITEM, project_id, key), []).append(item_id)
    milestones = select(MilestoneRow.id, MilestoneRow.project_id, MilestoneRow.name).where(
        MilestoneRow.project_id.in_(projects), MilestoneRow.name.in_(names)
    )
    for milestone_id, project_id, name in session.execute(milestones):
        found.setdefault((CommitmentSubject.MILESTONE, project_id, name), []).append(milestone_id)
    subjects = {}
    for event_id, ref in named.items():
        ids = found.get(ref, [])
        if len(ids) == 1:
            subjects[event_id] = EventSubject(subject=ref[0], subject_id=ids[0])
    return subjects
