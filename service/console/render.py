"""The console's router and its page rendering: its own templates first, then the shared ones of
`service.web` (the portal's macros, so a risk or a client's overview reads as the client reads it)."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from jinja2 import Environment
from starlette.responses import Response

from service.web.render import page_response, site_environment

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
