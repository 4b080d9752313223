"""Admin routes for client feedback: list it with what each rating refers to, mark it handled (as
`pmbridge feedback`; the logic is `service.feed.feedback_admin`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request

from service.api.auth import Caller, require_admin
from service.api.routers.context import MAX_ID, ObjectId
from service.api.schemas.admin import FeedbackAdminOut, FeedbackHandledIn
from service.api.schemas.common import ADMIN_ERRORS
from service.app_state import store_of
from service.feed.feedback_admin import (
    FeedbackFilter,
    feedback_row,
    list_feedback_for_operator,
    mark_feedback_handled,
)
from service.logging import get_logger
from service.store.db import reading, transaction

log = get_logger(__name__)
router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS)
Admin = Annotated[Caller, Depends(require_admin)]
Filter = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/feedback", response_model=list[FeedbackAdminOut], summary="Client feedback, newest first")
def get_feedback(
    request: Request,
    _admin: Admin,
    client: Filter = None,
    project: Filter = None,
    milestone: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    handled: bool | None = None,
    after: Annotated[
        int, Query(ge=0, le=MAX_ID, description="The last id of the previous page; older feedback follows.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FeedbackAdminOut]:
    """Every client's ratings, newest first, each with its client and what it refers to: a
    milestone (name, project) or a feed event (its text as the client read it, item, project).
    `client`: a client's name; `project`: a project key (ratings of its milestones and events);
    `milestone`: a milestone id; `handled`: true or false. An unknown client, project or
    milestone answers 404."""
    filters = FeedbackFilter(client=client, project=project, milestone_id=milestone, handled=handled)
    with reading(store_of(request).sessions) as session:
        listed = list_feedback_for_operator(session, filters=filters, after_id=after, limit=limit)
    return [FeedbackAdminOut.model_validate(feedback_row(f)) for f in listed]


@router.post(
    "/feedback/{feedback_id}/handled", response_model=FeedbackAdminOut, summary="Mark feedback handled"
)
def post_feedback_handled(
    request: Request,
    admin: Admin,
    feedback_id: ObjectId,
    body: Annotated[FeedbackHandledIn | None, Body()] = None,
) -> FeedbackAdminOut:
    """Marks the rating handled by the caller (`{"handled": false}`: not handled again); no body
    means handled. Idempotent: marking it again keeps when and by whom it first was."""
    handled = True if body is None else body.handled
    with transaction(store_of(request).sessions) as session:
        feedback = mark_feedback_handled(
            session,
            feedback_id=feedback_id,
            handled=handled,
            now=datetime.now(UTC),
            by=f"token:{admin.token_id}",
        )
        out = FeedbackAdminOut.model_validate(feedback_row(feedback))
    log.info("admin.feedback.handled", feedback_id=feedback_id, handled=handled)
    return out
