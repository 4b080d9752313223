"""Rendering pages: Jinja templates shipped in each site's package, with headers that keep pages private.

A site's templates come first, then the shared ones of `service.web` (the client's own views, the
wording of a risk), so a shared page extends the site's own `base.html`. Everything a page needs
comes from this app: stylesheets are served by each site and charts are inline SVG, so the policy
below allows nothing from elsewhere, scripts included.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response

from service.feed.wording import RATING_LABELS

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Pages hold a client's or the agency's data: never stored by a shared cache or the history cache.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# The shared stylesheet (the portal's look), which the console's own sheet builds on.
STYLESHEET_PATH = "/portal/static/portal.css"


def site_environment(package: str) -> Environment:
    """A site's template environment (each site keeps one, made once)."""
    environment = Environment(
        loader=ChoiceLoader([PackageLoader(package, "templates"), PackageLoader("service.web", "templates")]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["rating_labels"] = RATING_LABELS
    environment.globals["stylesheet"] = STYLESHEET_PATH
    return environment


def render_html(environment: Environment, template: str, **context: Any) -> str:
    return environment.get_template(template).render(**context)


def page_response(
    environment: Environment, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return HTMLResponse(
        render_html(environment, template, **context), status_code=status_code, headers=PAGE_HEADERS
    )


@cache
def _static(package: str, name: str) -> bytes:
    return files(package).joinpath("static", name).read_bytes()


def stylesheet_response(package: str, name: str, *, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        _static(package, name),
        media_type="text/css; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            **(headers or {}),
        },
    )
