"""The console's router and its page rendering: its own templates first, then the shared ones of
`service.web` (the portal's macros, so a risk or a client's overview reads as the client reads it)."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, Request
from jinja2 import Environment
from starlette.responses import Response

from service.console.web import CONSOLE, Operator, current_operator
from service.web.forms import csrf_ok, sign_in_redirect
from service.web.render import page_response, site_environment

MAX_ID = 2**53 - 1
router = APIRouter(prefix="/console", include_in_schema=False)
CONSOLE_STYLESHEET = "/console/static/console.css"
NAV = (
    ("today", "Today", "/console/"),
    ("flags", "Flags", "/console/flags"),
    ("feedback", "Feedback", "/console/feedback"),
    ("sources", "Sources", "/console/sources"),
    ("rules", "Rules", "/console/rules"),
    ("clients", "Clients", "/console/clients"),
)


@cache
def _environment() -> Environment:
    environment = site_environment("service.console")
    environment.globals["console_stylesheet"] = CONSOLE_STYLESHEET
    environment.globals["nav"] = NAV
    return environment


def render_page(template: str, *, status_code: int = 200, **context: object) -> Response:
    return page_response(_environment(), template, status_code=status_code, **context)


def page(
    operator: Operator, template: str, *, active: str, status_code: int = 200, **context: object
) -> Response:
    return render_page(
        template,
        status_code=status_code,
        operator=operator.name,
        csrf=operator.csrf,
        active=active,
        **context,
    )


def message(operator: Operator | None, *, status_code: int, title: str, text: str) -> Response:
    return render_page(
        "message.html",
        status_code=status_code,
        operator=operator.name if operator else None,
        csrf=operator.csrf if operator else "",
        active="",
        title=title,
        text=text,
    )


def not_found(operator: Operator | None) -> Response:
    return message(operator, status_code=404, title="Not found", text="There is no such page here.")


def expired(operator: Operator) -> Response:
    return message(
        operator, status_code=403, title="Not saved", text="The form expired. Reload the page and try again."
    )


def parse_id(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 16:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def checked_operator(request: Request, form: dict[str, str]) -> Operator | Response:
    """The operator who sent a form that changes state, or the response that refuses it: the sign-in
    page without a session, 403 without the session's CSRF token."""
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    if not csrf_ok(request, operator.session, form):
        return expired(operator)
    return operator


def checked_target(request: Request, form: dict[str, str], raw_id: str) -> tuple[Operator, int] | Response:
    """As `checked_operator`, for a form about one object: its id too, 404 when it is not one."""
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    parsed = parse_id(raw_id)
    if parsed is None:
        return not_found(operator)
    if not csrf_ok(request, operator.session, form):
        return expired(operator)
    return operator, parsed
