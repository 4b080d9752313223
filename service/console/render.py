"""The console's router and its page rendering: its own templates first, then the shared ones of
`service.web` (the portal's macros, so a risk or a client's overview reads as the client reads it)."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from jinja2 import Environment
from starlette.responses import Response

from service.console.web import Operator
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
