"""The console's Feedback page: clients' ratings and comments by client, project and milestone, each
with the delivery event or milestone it refers to, and the operator's mark that one was handled (the
use cases of `GET /admin/feedback` and `POST /admin/feedback/{id}/handled`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from starlette.responses import Response

from service.app_state import store_of
from service.console.render import checked_target, not_found, page, parse_id, router
from service.console.web import CONSOLE, HOME_PATH, console_path, current_operator
from service.errors import NotFoundError
from service.feed.feedback_admin import FeedbackFilter, list_feedback_for_operator, mark_feedback_handled
from service.store.db import reading, transaction
from service.store.feedback_admin import OperatorFeedback
from service.store.tenancy import list_clients
from service.web.forms import FormFields, redirect, sign_in_redirect

PAGE_SIZE = 50
HANDLED = {"": None, "no": False, "yes": True}
NOTICES = {"handled": "Marked handled.", "reopened": "Marked not handled."}
Text = Annotated[str, Query(max_length=200)]


@dataclass
class FeedbackQuery:
    client: str = ""
    project: str = ""
    milestone: str = ""
    handled: str = "no"

    def link(self, **changes: str) -> str:
        values = {
            "client": self.client,
            "project": self.project,
            "milestone": self.milestone,
            "handled": self.handled,
            **changes,
        }
        return f"{HOME_PATH}/feedback?" + urlencode({k: v for k, v in values.items() if v})


@dataclass(frozen=True, slots=True)
class ClientFeedback:
    client: str
    ratings: list[OperatorFeedback]


@router.get("/feedback")
def feedback(
    request: Request,
    client: Text = "",
    project: Text = "",
    milestone: Annotated[str, Query(max_length=20)] = "",
    handled: Annotated[str, Query(max_length=8)] = "no",
    after: Annotated[str, Query(max_length=20)] = "",
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    query = FeedbackQuery(
        client=client.strip(), project=project.strip(), milestone=milestone.strip(), handled=handled
    )
    errors: dict[str, str] = {}
    milestone_id = parse_id(query.milestone) if query.milestone else None
    if query.milestone and milestone_id is None:
        errors["milestone"] = "Enter a milestone's number."
    if query.handled not in HANDLED:
        errors["handled"] = "Choose from the list."
    listed: list[OperatorFeedback] = []
    next_after: int | None = None
    with reading(store_of(request).sessions) as session:
        clients = [c.name for c in list_clients(session, limit=500)]
        if not errors:
            filters = FeedbackFilter(
                client=query.client or None,
                project=query.project or None,
                milestone_id=milestone_id,
                handled=HANDLED[query.handled],
            )
            try:
                listed = list_feedback_for_operator(
                    session, filters=filters, after_id=parse_id(after) or 0, limit=PAGE_SIZE + 1
                )
            except NotFoundError as exc:
                field = next((f for f in ("client", "project", "milestone") if f in exc.details), "client")
                errors[field] = f"No {field} is {getattr(query, field)!r}."
    if len(listed) > PAGE_SIZE:
        listed = listed[:PAGE_SIZE]
        next_after = listed[-1].id
    groups: dict[str, list[OperatorFeedback]] = {}
    for rating in listed:
        groups.setdefault(rating.client_name, []).append(rating)
    return page(
        operator,
        "feedback.html",
        active="feedback",
        status_code=422 if errors else 200,
        query=query,
        errors=errors,
        clients=clients,
        groups=[ClientFeedback(client=name, ratings=ratings) for name, ratings in groups.items()],
        notice=NOTICES.get(done),
        return_to=query.link(),
        next_link=None if next_after is None else query.link(after=str(next_after)),
        first_link=query.link() if after else None,
    )


@router.post("/feedback/{feedback_id}/handled")
def post_handled(request: Request, feedback_id: str, form: FormFields) -> Response:
    checked = checked_target(request, form, feedback_id)
    if isinstance(checked, Response):
        return checked
    operator, parsed = checked
    handled = form.get("handled", "yes") != "no"
    try:
        with transaction(store_of(request).sessions) as session:
            mark_feedback_handled(
                session, feedback_id=parsed, handled=handled, now=datetime.now(UTC), by=operator.by
            )
    except NotFoundError:
        return not_found(operator)
    back = console_path(form.get("return_to"))
    if not back.startswith(f"{HOME_PATH}/feedback"):
        back = f"{HOME_PATH}/feedback"
    separator = "&" if "?" in back else "?"
    return redirect(f"{back}{separator}done={'handled' if handled else 'reopened'}")
