"""Signing in and out of a site, the same way on both: a token pasted into a form, exchanged once for
a server-side session.

The sign-in form carries a CSRF token bound to a nonce cookie of its own; a submission is counted
against the site's sign-in limits before the token is looked up; a token the site does not admit is
answered exactly as an unknown one. The site renders its own sign-in page (`SignInPage`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from fastapi import Request
from starlette.responses import Response

from service.app_state import store_of
from service.ratelimit import retry_after_header
from service.web.forms import (
    Site,
    clear_cookies,
    codec_of,
    csrf_ok,
    current_session,
    redirect,
    safe_return_path,
    same_origin,
    set_session_cookie,
    set_sign_in_cookie,
    sign_in_limits_of,
)
from service.web.sessions import end_session, new_sign_in_nonce, open_session


class SignInPage(Protocol):
    def __call__(self, *, csrf: str, next_path: str, error: str | None, status_code: int) -> Response: ...


def sign_in_page(
    request: Request, site: Site, render: SignInPage, *, next_path: str, error: str | None, status_code: int
) -> Response:
    nonce = new_sign_in_nonce()
    response = render(
        csrf=codec_of(request).csrf_token(nonce), next_path=next_path, error=error, status_code=status_code
    )
    set_sign_in_cookie(request, response, site, nonce)
    return response


def show_sign_in(request: Request, site: Site, render: SignInPage, *, next_path: str | None) -> Response:
    target = safe_return_path(next_path, home=site.home)
    if current_session(request, site) is not None:
        return redirect(target)
    return sign_in_page(request, site, render, next_path=target, error=None, status_code=200)


def submit_sign_in(request: Request, site: Site, render: SignInPage, form: dict[str, str]) -> Response:
    next_path = safe_return_path(form.get("next"), home=site.home)
    address = request.client.host if request.client else ""
    wait = sign_in_limits_of(request, site).wait(address=address, token=form.get("token", ""))
    if wait is not None:
        retry_after = retry_after_header(wait)
        response = sign_in_page(
            request,
            site,
            render,
            next_path=next_path,
            error=f"Too many sign-in attempts. Please try again in {retry_after} seconds.",
            status_code=429,
        )
        response.headers["Retry-After"] = retry_after
        return response
    nonce = request.cookies.get(site.sign_in_cookie)
    if (
        not same_origin(request)
        or nonce is None
        or not codec_of(request).csrf_matches(nonce, form.get("csrf"))
    ):
        return sign_in_page(
            request,
            site,
            render,
            next_path=next_path,
            error="The sign-in form expired. Please try again.",
            status_code=403,
        )
    session = open_session(
        store_of(request), secret=form.get("token", ""), now=datetime.now(UTC), admits=site.admits
    )
    if session is None:
        return sign_in_page(
            request,
            site,
            render,
            next_path=next_path,
            error="That access token was not accepted.",
            status_code=401,
        )
    response = redirect(next_path)
    set_session_cookie(request, response, site, session)
    return response


def submit_sign_out(request: Request, site: Site, form: dict[str, str]) -> Response | None:
    """Ends the session and answers the redirect to the sign-in page; None when the form is refused
    (the caller says so in its own page)."""
    holder = current_session(request, site)
    if holder is not None and not csrf_ok(request, holder.session, form):
        return None
    end_session(store_of(request), cookie=request.cookies.get(site.session_cookie))
    response = redirect(site.sign_in_path)
    clear_cookies(response, site)
    return response
