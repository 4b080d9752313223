"""The fake's request and reply between Starlette and the handlers, so `/1/batch` can replay handlers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sandbox.trello.models import Member

_OAUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Credentials:
    key: str | None
    token: str | None


@dataclass
class TrelloRequest:
    method: str
    path: str
    path_params: dict[str, str]
    # Query and body (JSON or form) merged, body winning: Trello reads write params from either.
    params: dict[str, str]
    credentials: Credentials
    member: Member | None = None
    token: str = ""

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        return value.lower() in {"true", "1", "yes"}


@dataclass
class TrelloReply:
    status: int = 200
    json: object = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def parse_oauth_header(value: str) -> Credentials:
    """`Authorization: OAuth oauth_consumer_key="…", oauth_token="…"`; signature params are ignored."""
    if not value[:6].lower().startswith("oauth"):
        return Credentials(None, None)
    found = dict(_OAUTH_PARAM.findall(value))
    return Credentials(found.get("oauth_consumer_key"), found.get("oauth_token"))


def resolve_credentials(
    params: dict[str, str], authorization: str | None, path_token: str | None
) -> Credentials:
    """Key and token from the query/body, else the OAuth header; `/1/tokens/{token}/…` names the token.

    py-trello's `create_hook` sends only `key` (in a form body) and relies on the token in the path.
    """
    header = parse_oauth_header(authorization) if authorization else Credentials(None, None)
    key = params.get("key") or header.key
    token = params.get("token") or header.token or path_token
    return Credentials(key, token)


def as_param(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(as_param(item) for item in value)
    return "" if value is None else str(value)
