"""The portal as a site (`service.web.forms.Site`): its cookies under /portal, client tokens only,
and the visitor behind a request."""

from __future__ import annotations

from fastapi import Request

from service.app_state import store_of
from service.portal.visitors import Visitor, find_visitor
from service.web.forms import Site, codec_of, current_session, safe_return_path
from service.web.sessions import is_client_token

HOME_PATH = "/portal"
PORTAL = Site(
    home=HOME_PATH,
    session_cookie="pmb_portal",
    sign_in_cookie="pmb_portal_sign_in",
    admits=is_client_token,
    limits_attribute="portal_sign_in_limits",
)
SESSION_COOKIE = PORTAL.session_cookie
SIGN_IN_PATH = PORTAL.sign_in_path


def current_visitor(request: Request) -> Visitor | None:
    holder = current_session(request, PORTAL)
    if holder is None:
        return None
    return find_visitor(store_of(request), codec_of(request), holder)


def portal_path(value: str | None) -> str:
    """A path inside the portal, never another host: anything else is the portal's home."""
    return safe_return_path(value, home=HOME_PATH)
