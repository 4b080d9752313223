"""Trello credentials and how they travel on the wire.

Trello accepts `?key=…&token=…` on every call (TAUTH) or, equivalently, the header
`Authorization: OAuth oauth_consumer_key="KEY", oauth_token="TOKEN"`. The header form is the default:
query strings end up in proxy and server logs, headers do not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from enum import StrEnum

import httpx

_FINGERPRINT_CHARS = 12


class TrelloAuthForm(StrEnum):
    HEADER = "header"
    QUERY = "query"


@dataclass(frozen=True, slots=True)
class TrelloCredentials:
    """An API key (one per Power-Up/app) and a member's token; neither is shown in `repr`.

    Real tokens start with `ATTA` and are ~76 characters (TCRE), so no format is enforced.
    """

    api_key: str = field(repr=False)
    token: str = field(repr=False)
    auth_form: TrelloAuthForm = TrelloAuthForm.HEADER

    def __post_init__(self) -> None:
        if not self.api_key or not self.token:
            raise ValueError("a Trello API key and token are both required")

    @property
    def key_fingerprint(self) -> str:
        """A stable, non-reversible name for the key (rate-limit buckets, logs)."""
        return _fingerprint(self.api_key)

    @property
    def token_fingerprint(self) -> str:
        return _fingerprint(self.token)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key, self.token)


class TrelloAuth(httpx.Auth):
    """Puts the credentials on each request and hands each response to `on_response`.

    An auth flow is the one place where the shared `HttpSession` lets a provider see every raw
    response, including the JSON body of a 429 that names the exhausted limit.
    """

    requires_response_body = True

    def __init__(
        self,
        credentials: TrelloCredentials,
        *,
        on_response: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        self._form = credentials.auth_form
        self._key = credentials.api_key
        self._token = credentials.token
        self._on_response = on_response

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._form is TrelloAuthForm.HEADER:
            request.headers["Authorization"] = (
                f'OAuth oauth_consumer_key="{self._key}", oauth_token="{self._token}"'
            )
        else:
            request.url = request.url.copy_set_param("key", self._key).copy_set_param("token", self._token)
        response = yield request
        if self._on_response is not None:
            self._on_response(response)

    def __repr__(self) -> str:
        return f"TrelloAuth({self._form.value}, <redacted>)"


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:_FINGERPRINT_CHARS]
