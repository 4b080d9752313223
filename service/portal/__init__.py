"""The client portal: small server-rendered pages for agencies that have no portal of their own."""

from __future__ import annotations

from fastapi import APIRouter

from service.portal.routes import router


def portal_router() -> APIRouter:
    """The portal's routes under /portal, for the app factory's caller to include."""
    return router
