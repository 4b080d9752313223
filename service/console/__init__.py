"""The operator's console: small server-rendered pages for the agency's delivery lead, on the
portal's stack (`service.web`), signed in with an admin token."""

from __future__ import annotations

from fastapi import APIRouter

from service.console import clients, feedback, routes, rules, sources  # noqa: F401  (they register their pages on the router)
from service.console.render import router


def console_router() -> APIRouter:
    """The console's routes under /console, for the app factory's caller to include."""
    return router
