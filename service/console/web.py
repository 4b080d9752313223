"""The console as a site (`service.web.forms.Site`): its cookies under /console, admin tokens only,
and the operator behind a request."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from service.web.forms import Site, codec_of, current_session, safe_return_path
from service.web.sessions import PortalSession, is_admin_token

HOME_PATH = "/console"
CONSOLE = Site(
    home=HOME_PATH,
    session_cookie="pmb_console",
    sign_in_cookie="pmb_console_sign_in",
    admits=is_admin_token,
    limits_attribute="console_sign_in_limits",
)


@dataclass(frozen=True, slots=True)
class Operator:
    token_id: int
    name: str
    session: PortalSession
    csrf: str  # the form token of this session

    @property
    def by(self) -> str:
        """Who did it, in a flag's history: as the admin API records its callers."""
        return f"token:{self.token_id}"


def current_operator(request: Request) -> Operator | None:
    holder = current_session(request, CONSOLE)
    if holder is None:
        return None
    return Operator(
        token_id=holder.session.token_id,
        name=holder.token.name,
        session=holder.session,
        csrf=codec_of(request).csrf_token(holder.session.cookie),
    )


def console_path(value: str | None) -> str:
    """A path inside the console, never another host: anything else is the console's home."""
    return safe_return_path(value, home=HOME_PATH)
