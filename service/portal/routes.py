"""The portal's pages: sign-in and out, the overview, a project, and rating forms.

Every page resolves the visitor from the session cookie and re-checks its token; a project that is
not the visitor's answers 404 exactly like one that does not exist. Forms that change state carry
the session's CSRF token and are refused without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Query, Request
from jinja2 import Environment
from starlette.responses import Response

from service.app_state import store_of
from service.domain.enums import FeedbackSubject
from service.feed.pulses import Pulse
from service.portal.visitors import Visitor
from service.portal.web import HOME_PATH, PORTAL, current_visitor, portal_path
from service.store.client_views import list_milestones, milestone_in_scope
from service.store.db import transaction
from service.store.feed_queries import feed_event_belongs_to
from service.store.tenancy import add_feedback
from service.web.client_pages import build_overview, build_project_page, list_named_pulses
from service.web.forms import FormFields, csrf_ok, redirect, sign_in_redirect
from service.web.render import page_response, site_environment, stylesheet_response
from service.web.signing import show_sign_in, submit_sign_in, submit_sign_out

router = APIRouter(prefix="/portal", include_in_schema=False)
MAX_ID = 2**53 - 1
MAX_COMMENT_LENGTH = 4000
# A period rating covers the week up to today, the digest's default period.
PERIOD_DAYS = 7


@dataclass(frozen=True, slots=True)
class RatingRequest:
    subject: FeedbackSubject
    subject_id: int | None
    question: str


PERIOD_RATING = RatingRequest(
    subject=FeedbackSubject.PERIOD, subject_id=None, question="How are we doing overall this week?"
)


@cache
def _environment() -> Environment:
    return site_environment("service.portal")


def render_page(template: str, *, status_code: int = 200, **context: object) -> Response:
    return page_response(_environment(), template, status_code=status_code, **context)


def _page(visitor: Visitor, template: str, *, status_code: int = 200, **context: object) -> Response:
    return render_page(
        template,
        status_code=status_code,
        client_name=visitor.client_name,
        csrf=visitor.csrf,
        **context,
    )


def _message(visitor: Visitor | None, *, status_code: int, title: str, text: str) -> Response:
    return render_page(
        "message.html",
        status_code=status_code,
        client_name=visitor.client_name if visitor else None,
        csrf=visitor.csrf if visitor else "",
        title=title,
        text=text,
    )


def _not_found(visitor: Visitor | None) -> Response:
    return _message(visitor, status_code=404, title="Not found", text="There is no such page here.")


def _sign_in_page(*, csrf: str, next_path: str, error: str | None, status_code: int) -> Response:
    return render_page(
        "sign_in.html", status_code=status_code, client_name=None, csrf=csrf, next_path=next_path, error=error
    )


@router.get("")
@router.get("/")
def overview(request: Request, feedback: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    visitor = current_visitor(request)
    if visitor is None:
        return sign_in_redirect(request, PORTAL)
    now = datetime.now(UTC)
    with store_of(request).sessions() as session:
        page = build_overview(session, visitor.grants, now=now)
    return _page(
        visitor,
        "overview.html",
        page=page,
        notice=feedback,
        period_rating=PERIOD_RATING,
        return_to=HOME_PATH,
    )


@router.get("/sign-in")
def sign_in_form(
    request: Request, next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None
) -> Response:
    return show_sign_in(request, PORTAL, _sign_in_page, next_path=next_path)


@router.post("/sign-in")
def sign_in_submit(request: Request, form: FormFields) -> Response:
    return submit_sign_in(request, PORTAL, _sign_in_page, form)


@router.post("/sign-out")
def sign_out(request: Request, form: FormFields) -> Response:
    response = submit_sign_out(request, PORTAL, form)
    if response is None:
        return _message(
            current_visitor(request),
            status_code=403,
            title="Not signed out",
            text="The form expired; try again.",
        )
    return response


def _csrf_ok(request: Request, visitor: Visitor, form: dict[str, str]) -> bool:
    return csrf_ok(request, visitor.session, form)


@router.get("/projects/{project_id}")
def project(
    request: Request, project_id: str, feedback: Annotated[str | None, Query(max_length=16)] = None
) -> Response:
    visitor = current_visitor(request)
    if visitor is None:
        return sign_in_redirect(request, PORTAL)
    parsed = _parse_id(project_id)
    if parsed is None:
        return _not_found(visitor)
    now = datetime.now(UTC)
    with store_of(request).sessions() as session:
        page = build_project_page(session, visitor.grants, project_id=parsed, now=now)
    if page is None:
        return _not_found(visitor)
    return _page(
        visitor,
        "project.html",
        page=page,
        notice=feedback,
        return_to=f"{HOME_PATH}/projects/{parsed}",
    )


def _parse_id(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 16:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


@router.get("/rate")
def rate_form(
    request: Request,
    subject: Annotated[str | None, Query(max_length=16)] = None,
    subject_id: Annotated[str | None, Query(alias="id", max_length=20)] = None,
) -> Response:
    """A rating form for one pulse; digests link here."""
    visitor = current_visitor(request)
    if visitor is None:
        return sign_in_redirect(request, PORTAL)
    rating = _rating_request(request, visitor, subject, _parse_id(subject_id))
    if rating is None:
        return _not_found(visitor)
    return _page(visitor, "rate.html", rating=rating, return_to=HOME_PATH)


def _rating_request(
    request: Request, visitor: Visitor, subject: str | None, subject_id: int | None
) -> RatingRequest | None:
    if subject == FeedbackSubject.PERIOD.value:
        return PERIOD_RATING
    if subject_id is None or subject not in (FeedbackSubject.MILESTONE.value, FeedbackSubject.EVENT.value):
        return None
    kind = FeedbackSubject(subject)
    now = datetime.now(UTC)
    with store_of(request).sessions() as session:
        pulses: list[Pulse] = list_named_pulses(session, visitor.grants, now=now)
        for pulse in pulses:
            if pulse.subject is kind and pulse.subject_id == subject_id:
                return RatingRequest(subject=kind, subject_id=subject_id, question=pulse.question)
        if kind is FeedbackSubject.MILESTONE:
            found = list_milestones(session, visitor.grants, milestone_id=subject_id)
            if not found:
                return None
            return RatingRequest(
                subject=kind, subject_id=subject_id, question=f"How satisfied are you with {found[0].name}?"
            )
        if not feed_event_belongs_to(session, event_id=subject_id, client_id=visitor.grants.client_id):
            return None
    return RatingRequest(subject=kind, subject_id=subject_id, question="How do you feel about this update?")


@router.post("/feedback")
def submit_feedback(request: Request, form: FormFields) -> Response:
    visitor = current_visitor(request)
    if visitor is None:
        return sign_in_redirect(request, PORTAL)
    if not _csrf_ok(request, visitor, form):
        return _message(
            visitor,
            status_code=403,
            title="Not saved",
            text="The form expired. Reload the page and try again.",
        )
    return_to = portal_path(form.get("return_to")).split("?")[0]
    rating = _parse_id(form.get("rating"))
    comment = (form.get("comment") or "").strip() or None
    try:
        subject = FeedbackSubject(form.get("subject", ""))
    except ValueError:
        subject = None
    if subject is None or rating is None or rating > 5 or (comment and len(comment) > MAX_COMMENT_LENGTH):
        return _message(
            visitor,
            status_code=400,
            title="Not saved",
            text="Please choose a rating from 1 to 5 (and keep any comment under 4,000 characters).",
        )
    subject_id = _parse_id(form.get("subject_id")) if subject is not FeedbackSubject.PERIOD else None
    now = datetime.now(UTC)
    today = now.date()
    grants = visitor.grants
    with transaction(store_of(request).sessions) as session:
        if subject is FeedbackSubject.MILESTONE and (
            subject_id is None or not milestone_in_scope(session, grants, milestone_id=subject_id)
        ):
            return _not_found(visitor)
        if subject is FeedbackSubject.EVENT and (
            subject_id is None
            or not feed_event_belongs_to(session, event_id=subject_id, client_id=grants.client_id)
        ):
            return _not_found(visitor)
        period = subject is FeedbackSubject.PERIOD
        add_feedback(
            session,
            client_id=grants.client_id,
            subject=subject,
            subject_id=subject_id,
            period_start=today - timedelta(days=PERIOD_DAYS - 1) if period else None,
            period_end=today if period else None,
            rating=rating,
            comment=comment,
            now=now,
        )
    return redirect(f"{return_to}?feedback=recorded")


@router.get("/static/portal.css")
def portal_stylesheet() -> Response:
    return stylesheet_response("service.portal", "portal.css")
