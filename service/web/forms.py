"""What a site's routes share: its cookies, sign-in limits, form bodies, safe redirects, same origin.

A `Site` names what differs between the portal and the console: the cookies, the path they are
scoped to (so the browser never sends one site's session to the other), the sign-in page, the
tokens that may sign in, and the app attribute its sign-in limits live under.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from service.app_state import settings_of, store_of
from service.ratelimit import RateLimiter
from service.web.sessions import PortalSession, SessionCodec, SessionHolder, TokenCheck, find_session

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
# Forms have a handful of short fields; the longest (a comment, a client's wording, a pasted rule
# file) is a few thousand characters.
MAX_FORM_BYTES = 32 * 1024
MAX_FORM_FIELDS = 16


@dataclass(frozen=True, slots=True)
class Site:
    home: str  # "/portal": the cookies' path, and where a signed-in visitor lands
    session_cookie: str
    sign_in_cookie: str
    admits: TokenCheck
    limits_attribute: str  # where the app keeps this site's sign-in limits

    @property
    def sign_in_path(self) -> str:
        return f"{self.home}/sign-in"


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


def sign_in_limits_of(request: Request, site: Site) -> SignInLimits:
    """The site's sign-in limits in this app, made on first use (the entrypoint includes the site)."""
    state = request.app.state
    with _LIMITS_LOCK:
        limits: SignInLimits | None = getattr(state, site.limits_attribute, None)
        if limits is None:
            limits = SignInLimits()
            setattr(state, site.limits_attribute, limits)
    return limits


def current_session(request: Request, site: Site) -> SessionHolder | None:
    return find_session(
        store_of(request),
        cookie=request.cookies.get(site.session_cookie),
        now=datetime.now(UTC),
        admits=site.admits,
    )


def _secure(request: Request) -> bool:
    public = settings_of(request).public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def set_session_cookie(request: Request, response: Response, site: Site, session: PortalSession) -> None:
    max_age = max(0, int((session.expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(
        site.session_cookie,
        session.cookie,
        max_age=max_age,
        path=site.home,
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(site.sign_in_cookie, path=site.home)


def set_sign_in_cookie(request: Request, response: Response, site: Site, nonce: str) -> None:
    response.set_cookie(
        site.sign_in_cookie,
        nonce,
        max_age=3600,
        path=site.home,
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )


def clear_cookies(response: Response, site: Site) -> None:
    for name in (site.session_cookie, site.sign_in_cookie):
        response.delete_cookie(name, path=site.home, httponly=True, samesite="lax")


def redirect(path: str) -> RedirectResponse:
    """303: the browser follows with a GET, so reloading the result never re-posts a form."""
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


def safe_return_path(value: str | None, *, home: str, default: str | None = None) -> str:
    """A path inside the site under `home`, never another host: anything else becomes `default`."""
    fallback = home if default is None else default
    if not value or not value.startswith(home) or value.startswith("//") or "\\" in value:
        return fallback
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return fallback
    if parts.path != home and not parts.path.startswith(home + "/"):
        return fallback
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in_redirect(request: Request, site: Site) -> Response:
    """To the sign-in page, coming back to this page once signed in."""
    target = safe_return_path(
        request.url.path + (f"?{request.url.query}" if request.url.query else ""), home=site.home
    )
    query = "" if target == site.home else f"?next={quote(target, safe='/?=')}"
    return redirect(site.sign_in_path + query)


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


def csrf_ok(request: Request, session: PortalSession, form: dict[str, str]) -> bool:
    """The form came from this site's page of this session: same origin, and its CSRF token."""
    return same_origin(request) and codec_of(request).csrf_matches(session.cookie, form.get("csrf"))


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
