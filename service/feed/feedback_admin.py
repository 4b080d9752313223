"""The agency's reading of its clients' feedback (`GET /admin/feedback`, `pmbridge feedback`): every
rating filtered by client, project, milestone and whether it was handled, with what it refers to,
and the operator's mark that it was handled.

`client` names a client and `project` is a project key (in any source); an unknown client, project
or milestone is `NotFoundError`, not an empty list, so a typo is not taken for "no feedback".
`feedback_row` is the one JSON shape of a rating, which the CLI prints and the admin API answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.errors import NotFoundError
from service.store.db import Session
from service.store.feedback_admin import (
    OperatorFeedback,
    list_operator_feedback,
    update_feedback_handled,
)
from service.store.items import milestone_exists
from service.store.projects import list_project_ids_by_key
from service.store.tenancy import get_client_by_name


@dataclass(frozen=True, slots=True)
class FeedbackFilter:
    client: str | None = None
    project: str | None = None
    milestone_id: int | None = None
    handled: bool | None = None


def list_feedback_for_operator(
    session: Session, *, filters: FeedbackFilter, after_id: int = 0, limit: int | None = 100
) -> list[OperatorFeedback]:
    """Feedback newest first; `after_id` is the last id of the previous page (older ones follow)."""
    client_id = None
    if filters.client is not None:
        client_id = get_client_by_name(session, name=filters.client).id
    project_ids = None
    if filters.project is not None:
        project_ids = list_project_ids_by_key(session, key=filters.project)
        if not project_ids:
            raise NotFoundError(
                f"no project with key {filters.project!r}", details={"project": filters.project}
            )
    if filters.milestone_id is not None and not milestone_exists(session, milestone_id=filters.milestone_id):
        raise NotFoundError(
            f"milestone {filters.milestone_id} not found", details={"milestone": filters.milestone_id}
        )
    return list_operator_feedback(
        session,
        client_id=client_id,
        project_ids=project_ids,
        milestone_id=filters.milestone_id,
        handled=filters.handled,
        after_id=after_id,
        limit=limit,
    )


def mark_feedback_handled(
    session: Session, *, feedback_id: int, now: datetime, handled: bool = True, by: str | None = None
) -> OperatorFeedback:
    """Mark a rating handled (`handled=False`: not handled again). Idempotent: handled feedback
    marked again keeps when and by whom it first was. Unknown feedback is `NotFoundError`."""
    return update_feedback_handled(session, feedback_id=feedback_id, handled=handled, now=now, by=by)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def feedback_row(feedback: OperatorFeedback) -> dict[str, Any]:
    """A rating as JSON: its client, subject, rating and comment, when it was given and handled, and
    the milestone or feed event it refers to (null when it refers to none, or to one gone since)."""
    milestone = feedback.milestone
    event = feedback.event
    return {
        "id": feedback.id,
        "client": {"id": feedback.client_id, "name": feedback.client_name},
        "subject": feedback.subject.value,
        "subject_id": feedback.subject_id,
        "rating": feedback.rating,
        "comment": feedback.comment,
        "created_at": feedback.created_at.isoformat(),
        "period_start": _iso(feedback.period_start),
        "period_end": _iso(feedback.period_end),
        "handled": feedback.handled_at is not None,
        "handled_at": _iso(feedback.handled_at),
        "handled_by": feedback.handled_by,
        "milestone": None
        if milestone is None
        else {"id": milestone.id, "name": milestone.name, "project_key": milestone.project_key},
        "event": None
        if event is None
        else {
            "id": event.id,
            "kind": event.kind,
            "summary": event.summary,
            "title": event.title,
            "occurred_at": event.occurred_at.isoformat(),
            "item_key": event.item_key,
            "item_title": event.item_title,
            "project_key": event.project_key,
        },
    }
