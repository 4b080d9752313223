"""HTTP translation shared by the Jira routes: auth, rate limits, Jira's error bodies, JSON responses."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.jira.limits import Decision
from sandbox.jira.model import Issue
from sandbox.jira.render import Renderer
from sandbox.jira.state import JiraWorld

JSON_TYPE = "application/json;charset=UTF-8"
# The platform API's path segment and the representation it answers with. Jira takes `latest` as an
# alias of its current REST version, 2 (reference §1): the same operations, v2's plain-text bodies.
API_VERSIONS: tuple[tuple[str, str], ...] = (("3", "3"), ("2", "2"), ("latest", "2"))
# What serverInfo's `deploymentType` says: "Cloud", or "Server" for Data Center (a node reports
# "Server" whatever its licence).
CLOUD, DATA_CENTER = "Cloud", "Server"
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


class ApiError(Exception):
    """A Jira error response: `{"errorMessages": […], "errors": {…}}` with a status."""

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, messages)
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"errorMessages": self.messages, "errors": self.errors}
        return Response(orjson.dumps(body), self.status, headers=self.headers, media_type=JSON_TYPE)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type=JSON_TYPE)


def issue_not_found() -> ApiError:
    return ApiError(404, ["Issue does not exist or you do not have permission to see it."])


@dataclass(frozen=True, slots=True)
class Caller:
    account_id: str
    kind: str  # "basic" | "pat" | "oauth" | "anonymous"

    @property
    def deployment(self) -> str:
        """The deployment this caller talks to. One world is served as both: a personal access token
        is a Data Center credential (Cloud has none), so its bearer sees Jira Data Center; API-token
        and OAuth 2.0 callers, and anonymous ones, see Jira Cloud."""
        return DATA_CENTER if self.kind == "pat" else CLOUD


@dataclass
class Ctx:
    """One request as the handlers see it."""

    request: Request
    world: JiraWorld
    version: str
    caller: Caller
    body: bytes
    renderer: Renderer

    @property
    def query(self) -> Any:
        return self.request.query_params

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def json(self) -> Any:
        try:
            return orjson.loads(self.body) if self.body else None
        except orjson.JSONDecodeError:
            raise ApiError(400, ["Invalid JSON payload."]) from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise ApiError(
                400, ["Invalid request payload. Refer to the REST API documentation and try again."]
            )
        return data

    def int_param(self, name: str, default: int, *, maximum: int | None = None) -> int:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, [f"The {name} parameter must be an integer."]) from None
        if value < 0:
            raise ApiError(400, [f"The {name} parameter must be positive."])
        return min(value, maximum) if maximum is not None else value

    def issue(self, name: str = "issueIdOrKey") -> Issue:
        issue = self.world.find_issue(self.path(name))
        if issue is None:
            raise issue_not_found()
        return issue

    def check_issue_write(self, issue: Issue) -> None:
        decision = self.world.limiter.check_issue_write(issue.id)
        if not decision.allowed:
            raise rate_limited(self.world, decision)


def rate_limited(world: JiraWorld, decision: Decision) -> ApiError:
    reset = world.clock.now() + timedelta(seconds=decision.retry_after_s)
    return ApiError(
        429,
        ["Rate limit exceeded."],
        headers={
            "Retry-After": str(decision.retry_after_s),
            "X-RateLimit-Limit": str(decision.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
            "RateLimit-Reason": decision.reason,
        },
    )


def authenticate(world: JiraWorld, request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    credentials = world.credentials
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if not header:
        raise ApiError(401, [NOT_AUTHENTICATED])
    if scheme.lower() == "basic":
        try:
            email, _, token = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            email, token = "", ""
        if email.lower() == credentials.email.lower() and hmac.compare_digest(token, credentials.api_token):
            return Caller(world.current_account_id, "basic")
    elif scheme.lower() == "bearer":
        if hmac.compare_digest(value, credentials.pat):
            return Caller(world.current_account_id, "pat")
        if hmac.compare_digest(value, credentials.oauth_token):
            return Caller(world.current_account_id, "oauth")
    # Jira Cloud answers failed credentials with a plain-text body and a Seraph login reason.
    raise _AuthFailed()


class _AuthFailed(ApiError):
    def __init__(self) -> None:
        super().__init__(401)

    def response(self) -> Response:
        return Response(
            "Client must be authenticated to access this resource.",
            401,
            headers={
                "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                "WWW-Authenticate": 'Basic realm="protected-area"',
            },
            media_type="text/plain;charset=UTF-8",
        )


Handler = Callable[[Ctx], Response]


def jira_endpoint(
    world: JiraWorld,
    template: str,
    methods: list[str],
    handler: Handler,
    *,
    version: str = "3",
    anonymous: bool = False,
) -> Route:
    """A route whose handler runs under the world's lock after auth and the burst limit."""
    endpoint_key = f"{methods[0]} {template}"

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            if request.method in ("POST", "PUT") and _fails_xsrf_check(request):
                raise ApiError(403, ["XSRF check failed"])
            with world.lock:
                if anonymous and not request.headers.get("authorization"):
                    caller = Caller(world.current_account_id, "anonymous")
                else:
                    caller = authenticate(world, request)
                decision = world.limiter.check_burst(endpoint_key)
                if not decision.allowed:
                    raise rate_limited(world, decision)
                base = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
                renderer = Renderer(world, base_url=base, api_version=version)
                response = handler(Ctx(request, world, version, caller, body, renderer))
            if decision.near_limit:
                response.headers["X-RateLimit-NearLimit"] = "true"
            return response
        except ApiError as error:
            return error.response()

    return Route(template, endpoint, methods=methods)


def _fails_xsrf_check(request: Request) -> bool:
    # Jira rejects form and multipart writes that lack `X-Atlassian-Token: no-check` (XSRF protection).
    content_type = request.headers.get("content-type", "")
    is_form = content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
    )
    return is_form and request.headers.get("x-atlassian-token", "").lower() != "no-check"
