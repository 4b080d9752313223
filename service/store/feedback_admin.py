"""Client feedback as the agency's operator reads it: every client's ratings with what each refers
to, filtered and paged, and the operator's mark that one was handled (followed up).

The portal and `POST /v1/feedback` write feedback (`tenancy.add_feedback`); a rating names a
milestone or one of the client's feed events by id (`subject_id`), or a period. The subject is
resolved here as it is now: a milestone with its name and project, an event with the text the
client read (its summary and the item title it carried) and its item and project. A subject that
is gone (a removed source's milestone, a withdrawn event) leaves `subject_id` null, or names a row
that no longer exists: the rating is listed without it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, aliased

from service.domain.enums import FeedbackSubject
from service.errors import NotFoundError
from service.store.orm import ClientRow, FeedbackRow, FeedEventRow, MilestoneRow, ProjectRow, WorkItemRow


@dataclass(frozen=True, slots=True)
class FeedbackMilestoneRef:
    """The milestone a rating is about."""

    id: int
    name: str
    project_key: str


@dataclass(frozen=True, slots=True)
class FeedbackEventRef:
    """The feed event a rating is about, as the client read it."""

    id: int
    kind: str
    summary: str
    title: str | None  # the item's title the event carried, when it carried one
    occurred_at: datetime
    item_key: str | None
    item_title: str | None
    project_key: str | None  # None once its project was removed


@dataclass(frozen=True, slots=True)
class OperatorFeedback:
    """One client rating with its client and what it refers to."""

    id: int
    client_id: int
    client_name: str
    subject: FeedbackSubject
    subject_id: int | None
    rating: int
    comment: str | None
    created_at: datetime
    period_start: date | None
    period_end: date | None
    handled_at: datetime | None
    handled_by: str | None
    milestone: FeedbackMilestoneRef | None
    event: FeedbackEventRef | None


_MilestoneProject = aliased(ProjectRow)
_EventProject = aliased(ProjectRow)


def _query() -> Select[Any]:
    is_milestone = FeedbackRow.subject == FeedbackSubject.MILESTONE.value
    is_event = FeedbackRow.subject == FeedbackSubject.EVENT.value
    return (
        select(
            FeedbackRow,
            ClientRow.name,
            MilestoneRow.id,
            MilestoneRow.name,
            _MilestoneProject.key,
            FeedEventRow.id,
            FeedEventRow.kind,
            FeedEventRow.summary,
            FeedEventRow.payload,
            FeedEventRow.occurred_at,
            _EventProject.key,
            WorkItemRow.key,
            WorkItemRow.title,
        )
        .join(ClientRow, ClientRow.id == FeedbackRow.client_id)
        .outerjoin(MilestoneRow, and_(is_milestone, MilestoneRow.id == FeedbackRow.subject_id))
        .outerjoin(_MilestoneProject, _MilestoneProject.id == MilestoneRow.project_id)
        # An event is the rating client's own: the portal and the API refuse another client's.
        .outerjoin(
            FeedEventRow,
            and_(
                is_event,
                FeedEventRow.id == FeedbackRow.subject_id,
                FeedEventRow.client_id == FeedbackRow.client_id,
            ),
        )
        .outerjoin(_EventProject, _EventProject.id == FeedEventRow.project_id)
        .outerjoin(WorkItemRow, WorkItemRow.id == FeedEventRow.item_id)
    )


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) else None


def _operator_feedback(row: Any) -> OperatorFeedback:
    (
        fb,
        client_name,
        m_id,
        m_name,
        m_key,
        e_id,
        e_kind,
        e_summary,
        e_payload,
        e_at,
        e_key,
        i_key,
        i_title,
    ) = row
    milestone = FeedbackMilestoneRef(id=m_id, name=m_name, project_key=m_key) if m_id is not None else None
    event = None
    if e_id is not None:
        payload = e_payload if isinstance(e_payload, dict) else {}
        title = _text(payload, "title")
        event = FeedbackEventRef(
            id=e_id,
            kind=e_kind,
            summary=e_summary,
            title=title,
            occurred_at=e_at,
            item_key=i_key if i_key is not None else _text(payload, "item"),
            item_title=title if title is not None else i_title,
            project_key=e_key,
        )
    return OperatorFeedback(
        id=fb.id,
        client_id=fb.client_id,
        client_name=client_name,
        subject=FeedbackSubject(fb.subject),
        subject_id=fb.subject_id,
        rating=fb.rating,
        comment=fb.comment,
        created_at=fb.created_at,
        period_start=fb.period_start,
        period_end=fb.period_end,
        handled_at=fb.handled_at,
        handled_by=fb.handled_by,
        milestone=milestone,
        event=event,
    )


def list_operator_feedback(
    session: Session,
    *,
    client_id: int | None = None,
    project_ids: Collection[int] | None = None,
    milestone_id: int | None = None,
    handled: bool | None = None,
    after_id: int = 0,
    limit: int | None = 100,
) -> list[OperatorFeedback]:
    """Every client's feedback, newest first (by id, which follows when it was given).

    `project_ids`: feedback whose milestone or event belongs to one of these projects (a period's
    rating belongs to none); `milestone_id`: ratings of that milestone; `handled`: only handled
    (True) or unhandled (False) ones. Paging follows the order: `after_id` is the last id of the
    previous page, and the next page holds older feedback (0: from the newest).
    """
    query = _query()
    if client_id is not None:
        query = query.where(FeedbackRow.client_id == client_id)
    if project_ids is not None:
        ids = list(project_ids)
        query = query.where(
            or_(
                and_(
                    FeedbackRow.subject == FeedbackSubject.MILESTONE.value, MilestoneRow.project_id.in_(ids)
                ),
                and_(FeedbackRow.subject == FeedbackSubject.EVENT.value, FeedEventRow.project_id.in_(ids)),
            )
        )
    if milestone_id is not None:
        query = query.where(
            FeedbackRow.subject == FeedbackSubject.MILESTONE.value, FeedbackRow.subject_id == milestone_id
        )
    if handled is not None:
        query = query.where(
            FeedbackRow.handled_at.is_not(None) if handled else FeedbackRow.handled_at.is_(None)
        )
    if after_id > 0:
        query = query.where(FeedbackRow.id < after_id)
    query = query.order_by(FeedbackRow.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_operator_feedback(row) for row in session.execute(query)]


def get_operator_feedback(session: Session, *, feedback_id: int) -> OperatorFeedback:
    row = session.execute(_query().where(FeedbackRow.id == feedback_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"feedback {feedback_id} not found", details={"feedback_id": feedback_id})
    return _operator_feedback(row)


def update_feedback_handled(
    session: Session, *, feedback_id: int, handled: bool, now: datetime, by: str | None = None
) -> OperatorFeedback:
    """Mark the feedback handled (by whom, when) or not handled. Idempotent: marking handled
    feedback handled again keeps when and by whom it first was; un-handling clears both."""
    row = session.get(FeedbackRow, feedback_id)
    if row is None:
        raise NotFoundError(f"feedback {feedback_id} not found", details={"feedback_id": feedback_id})
    if not handled:
        row.handled_at, row.handled_by = None, None
    elif row.handled_at is None:
        row.handled_at, row.handled_by = now, by
    session.flush()
    return get_operator_feedback(session, feedback_id=feedback_id)
