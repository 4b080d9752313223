"""Client feedback: a rating and comment on a milestone, a feed event or a period."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from service.api.auth import ClientCaller, require_client
from service.api.routers.context import snapshots_of
from service.api.schemas.client import EventFeedbackIn, FeedbackIn, FeedbackOut, MilestoneFeedbackIn
from service.api.schemas.common import CLIENT_OBJECT_ERRORS, error_responses
from service.app_state import store_of
from service.domain.enums import FeedbackSubject
from service.errors import NotFoundError
from service.store.client_views import milestone_in_scope
from service.store.db import transaction
from service.store.feed_queries import feed_event_belongs_to
from service.store.tenancy import add_feedback

router = APIRouter(prefix="/v1", tags=["client"])


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses={**CLIENT_OBJECT_ERRORS, **error_responses(400, 413)},
    summary="Rate a milestone, an event or a period",
)
def post_feedback(
    request: Request, caller: Annotated[ClientCaller, Depends(require_client)], body: FeedbackIn
) -> FeedbackOut:
    """A milestone or event outside the caller's reach answers 404, like one that does not exist."""
    snapshot = snapshots_of(request).get(caller.client_id)
    subject_id: int | None = None
    period: tuple[date, date] | None = None
    with transaction(store_of(request).sessions) as session:
        if isinstance(body, MilestoneFeedbackIn):
            subject_id = body.subject_id
            if not milestone_in_scope(session, snapshot.grants, milestone_id=subject_id):
                raise NotFoundError(f"milestone {subject_id} not found", details={"subject_id": subject_id})
        elif isinstance(body, EventFeedbackIn):
            subject_id = body.subject_id
            if not feed_event_belongs_to(session, event_id=subject_id, client_id=caller.client_id):
                raise NotFoundError(f"event {subject_id} not found", details={"subject_id": subject_id})
        else:
            period = (min(body.period_start, body.period_end), max(body.period_start, body.period_end))
        feedback = add_feedback(
            session,
            client_id=caller.client_id,
            subject=FeedbackSubject(body.subject),
            subject_id=subject_id,
            period_start=period[0] if period else None,
            period_end=period[1] if period else None,
            rating=body.rating,
            comment=body.comment,
            now=datetime.now(UTC),
        )
    assert feedback.id is not None
    return FeedbackOut(
        id=feedback.id,
        subject=feedback.subject,
        subject_id=feedback.subject_id,
        period_start=feedback.period_start,
        period_end=feedback.period_end,
        rating=feedback.rating,
        comment=feedback.comment,
        created_at=feedback.created_at,
    )
