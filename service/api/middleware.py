"""Request ids and request metrics, as one pure ASGI middleware (no per-request task or body copy);
it also refuses a path or query holding a NUL character with 422.

Every request gets an id: the caller's `X-Request-ID` when it is a sane token (a proxy's or a
client's, so logs line up across hops), else a new one. It is bound into structlog's context for
every log line of the request (sync endpoints run in a thread that inherits the context) and
returned in the response's `X-Request-ID`. It is also kept in the request's state
(`request.state.request_id`): an unexpected error is answered by the outermost error middleware,
after this one has given up on the request, and its response carries the id from there.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars, reset_contextvars

from service.api.limits import send_error
from service.metrics import UNMATCHED_ROUTE, record_http_request

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_STATE = "request_id"
_REQUEST_ID_HEADER_RAW = REQUEST_ID_HEADER.lower().encode()
# Ids go into log lines and response headers: only short tokens of safe characters are kept.
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


# A random prefix per process and a counter: unique across processes without a system call per
# request (uuid4 reads the OS's random source every time).
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a safe token, else a new id."""
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID_HEADER_RAW:
            if _SAFE_REQUEST_ID.fullmatch(value):
                return str(value.decode())
            break
    return new_request_id()


# A NUL character (U+0000) in the path or the query: PostgreSQL cannot compare or store text that
# holds one, so it is refused before any route sees it, in the one error shape.
_NUL_IN_QUERY = b"%00"
_NUL_REFUSAL = {
    "errors": [
        {
            "location": ["url"],
            "message": "the path and the query may not contain a NUL character (U+0000)",
            "type": "nul_character",
        }
    ]
}


def holds_nul(scope: Scope) -> bool:
    return _NUL_IN_QUERY in scope.get("query_string", b"") or "\x00" in scope.get("path", "")


def route_template(scope: Scope) -> str:
    """The matched route's path template: ids never explode the metric's label space."""
    route = scope.get("route")
    if isinstance(route, BaseRoute):
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
    return UNMATCHED_ROUTE


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(scope)
        scope.setdefault("state", {})[REQUEST_ID_STATE] = request_id
        header_value = request_id.encode()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k != _REQUEST_ID_HEADER_RAW]
                headers.append((_REQUEST_ID_HEADER_RAW, header_value))
                message["headers"] = headers
            await send(message)

        tokens = bind_contextvars(request_id=request_id)
        try:
            if holds_nul(scope):
                await send_error(
                    send_with_id,
                    422,
                    code="validation_failed",
                    message="the request is not valid",
                    details=_NUL_REFUSAL,
                )
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            reset_contextvars(**tokens)
            record_http_request(
                method=scope["method"],
                route=route_template(scope),
                status=status,
                seconds=time.perf_counter() - started,
            )


def scope_request_id(scope: Scope) -> str | None:
    """The id `RequestContextMiddleware` gave the request, once it has seen it."""
    state = scope.get("state")
    request_id = state.get(REQUEST_ID_STATE) if isinstance(state, dict) else None
    return request_id if isinstance(request_id, str) else None
