"""One sandbox: a clock, the Jira and Trello worlds, webhook dispatcher, request log and faults, served
by one Starlette app (Jira under /rest/…, Trello under /1/…, the control API under /_sandbox/)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.clock import SandboxClock
from sandbox.control import control_routes
from sandbox.dispatcher import WebhookDispatcher
from sandbox.faults import FaultMiddleware, Faults
from sandbox.jira.routes import jira_routes
from sandbox.jira.state import JiraWorld
from sandbox.requestlog import RequestLog, RequestLogMiddleware, RouteResolver
from sandbox.trello.routes import trello_routes
from sandbox.trello.state import TrelloWorld

_SLASHES = re.compile(r"/{2,}")


@dataclass
class Sandbox:
    """Everything one sandbox holds. Credentials clients use:

    - Jira: `jira_email` + `jira_api_token` (Basic), `jira_pat` (Bearer: a Data Center credential, so
      its caller sees the site as Jira Data Center), `jira_oauth_token` (Bearer, an OAuth 2.0 app: may
      register dynamic webhooks); admin webhooks registered through the control API are signed with
      `jira_webhook_secret` unless given another.
    - Trello: `trello_api_key` + `trello_token`; webhooks are signed with `trello_app_secret`.
    """

    clock: SandboxClock
    jira: JiraWorld
    trello: TrelloWorld | None
    dispatcher: WebhookDispatcher
    request_log: RequestLog = field(default_factory=RequestLog)
    faults: Faults = field(default_factory=Faults)
    trello_api_key: str = ""
    trello_token: str = ""
    trello_app_secret: str = ""
    base_url: str = ""

    @property
    def jira_email(self) -> str:
        return self.jira.credentials.email

    @property
    def jira_api_token(self) -> str:
        return self.jira.credentials.api_token

    @property
    def jira_pat(self) -> str:
        return self.jira.credentials.pat

    @property
    def jira_oauth_token(self) -> str:
        return self.jira.credentials.oauth_token

    @property
    def jira_webhook_secret(self) -> str:
        return self.jira.credentials.webhook_secret

    def bind(self, base_url: str) -> None:
        """Record where the sandbox is served: links in webhook payloads point there."""
        self.base_url = base_url.rstrip("/")
        with self.jira.lock:
            self.jira.settings.site_url = self.base_url

    def connection_info(self, base_url: str | None = None) -> dict[str, Any]:
        """What a client needs: the shape `pmbridge sandbox serve --json` prints on its first line."""
        base = (base_url or self.base_url).rstrip("/")
        info: dict[str, Any] = {
            "jira": {
                "base_url": base,
                "email": self.jira_email,
                "api_token": self.jira_api_token,
                "webhook_secret": self.jira_webhook_secret,
                "pat": self.jira_pat,
                "oauth_token": self.jira_oauth_token,
            },
            "trello": None,
            "control_url": f"{base}/_sandbox",
        }
        if self.trello is not None:
            info["trello"] = {
                "base_url": base,
                "api_key": self.trello_api_key,
                "token": self.trello_token,
                "app_secret": self.trello_app_secret,
            }
        return info


class _CollapseSlashes:
    """Clients build URLs by joining strings and send `//` now and then; Jira and Trello accept them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            path = _SLASHES.sub("/", scope["path"])
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


def create_sandbox_app(sandbox: Sandbox) -> Starlette:
    routes: list[BaseRoute] = [*jira_routes(sandbox.jira)]
    if sandbox.trello is not None:
        routes += trello_routes(sandbox.trello)
    routes.append(Mount("/_sandbox", routes=control_routes(sandbox)))
    resolver = RouteResolver(routes)
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(_CollapseSlashes),
            Middleware(RequestLogMiddleware, log=sandbox.request_log, resolver=resolver),
            Middleware(FaultMiddleware, faults=sandbox.faults, resolver=resolver),
        ],
    )
