"""Rendering portal pages: Jinja templates shipped in the package, with headers that keep pages private.

Everything a page needs comes from this app: the stylesheet is served at `/portal/static/portal.css`
and charts are inline SVG, so the policy below allows nothing from elsewhere.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response

from service.feed.wording import RATING_LABELS

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Pages hold one client's data: never stored by a shared cache or the browser's history cache.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
STYLESHEET_PATH = "/portal/static/portal.css"


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("service.portal", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["rating_labels"] = RATING_LABELS
    environment.globals["stylesheet"] = STYLESHEET_PATH
    return environment


def render_page(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    body = _environment().get_template(template).render(**context)
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)


@cache
def stylesheet() -> bytes:
    return files("service.portal").joinpath("static", "portal.css").read_bytes()


def stylesheet_response() -> Response:
    return Response(
        stylesheet(),
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
