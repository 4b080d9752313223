"""What the portal's routes share: the app's store and settings, cookies, form bodies, safe redirects."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from service.app_state import settings_of, store_of
from service.portal.sessions import PortalSession, SessionCodec
from service.portal.visitors import Visitor, find_visitor
from service.ratelimit import RateLimiter

SESSION_COOKIE = "pmb_portal"
SIGN_IN_COOKIE = "pmb_portal_sign_in"
COOKIE_PATH = "/portal"
HOME_PATH = "/portal"
SIGN_IN_PATH = "/portal/sign-in"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
# Portal forms have a handful of short fields; a comment is at most 4,000 characters.
MAX_FORM_BYTES = 32 * 1024
MAX_FORM_FIELDS = 16


def codec_of(request: Request) -> SessionCodec:
    return SessionCodec(settings_of(request).secret_keys[0])


# Sign-in guesses, counted per address and per token prefix (what a screenshot of a token shows):
# a burst, then one attempt every few seconds. A person who mistypes is not slowed; a script
# trying tokens is held to a few hundred an hour per address.
SIGN_IN_ADDRESS_BURST, SIGN_IN_ADDRESS_PER_SECOND = 10, 1 / 6
SIGN_IN_PREFIX_BURST, SIGN_IN_PREFIX_PER_SECOND = 5, 1 / 12
SIGN_IN_PREFIX_LENGTH = 8
_LIMITS_LOCK = threading.Lock()


class SignInLimits:
    def __init__(
        self,
        *,
        address_burst: int = SIGN_IN_ADDRESS_BURST,
        prefix_burst: int = SIGN_IN_PREFIX_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._by_address = RateLimiter(
            per_second=SIGN_IN_ADDRESS_PER_SECOND, burst=address_burst, clock=clock
        )
        self._by_prefix = RateLimiter(per_second=SIGN_IN_PREFIX_PER_SECOND, burst=prefix_burst, clock=clock)

    def wait(self, *, address: str, token: str) -> float | None:
        """None when this attempt may go ahead; else the seconds before the next one may."""
        waits = [
            w
            for w in (
                self._by_address.acquire(("address", address)),
                self._by_prefix.acquire(("prefix", token.strip()[:SIGN_IN_PREFIX_LENGTH])),
            )
            if w is not None
        ]
        return max(waits) if waits else None


def sign_in_limits_of(request: Request) -> SignInLimits:
    """The app's sign-in limits, made on first use (the portal is included by the entrypoint)."""
    state = request.app.state
    with _LIMITS_LOCK:
        limits: SignInLimits | None = getattr(state, "portal_sign_in_limits", None)
        if limits is None:
            limits = SignInLimits()
            state.portal_sign_in_limits = limits
    return limits


def current_visitor(request: Request) -> Visitor | None:
    return find_visitor(
        store_of(request),
        codec_of(request),
        cookie=request.cookies.get(SESSION_COOKIE),
        now=datetime.now(UTC),
    )


def _secure(request: Request) -> bool:
    public = settings_of(request).public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def set_session_cookie(request: Request, response: Response, session: PortalSession) -> None:
    max_age = max(0, int((session.expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )


def set_sign_in_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        max_age=3600,
        path=COOKIE_PATH,
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )


def clear_cookies(response: Response) -> None:
    for name in (SESSION_COOKIE, SIGN_IN_COOKIE):
        response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="lax")


def redirect(path: str) -> RedirectResponse:
    """303: the browser follows with a GET, so reloading the result never re-posts a form."""
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


def safe_return_path(value: str | None, *, default: str = HOME_PATH) -> str:
    """A path inside the portal, never another host: anything else becomes `default`."""
    if not value or not value.startswith(HOME_PATH) or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    if parts.path != HOME_PATH and not parts.path.startswith(HOME_PATH + "/"):
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")


def same_origin(request: Request) -> bool:
    """False when the browser says the form came from another origin (defence beside the CSRF token)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    allowed = {f"{request.url.scheme}://{request.url.netloc}"}
    public = settings_of(request).public_url
    if public:
        parts = urlsplit(public)
        allowed.add(f"{parts.scheme}://{parts.netloc}")
    return origin in allowed


async def form_fields(request: Request) -> dict[str, str]:
    """A urlencoded form's fields (first value of each); empty for anything else, so checks fail closed."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        return {}
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        return {}
    fields: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            return {}  # PostgreSQL cannot store a NUL character; nothing of such a form is kept
        fields.setdefault(name, value)
    return fields


FormFields = Annotated[dict[str, str], Depends(form_fields)]
