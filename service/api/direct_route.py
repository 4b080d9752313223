"""The hot endpoints: documented like any route, dispatched directly.

FastAPI's handler for a route solves the endpoint's dependency graph, then validates and
serializes per request; on the webhook intake and the feed that machinery cost about as much as
the work itself (verify and store a delivery; read a page). A `DirectRoute` endpoint takes only
the request and scalar path and query parameters, and builds its own response: the route
validates those parameters with the same pydantic rules and 422 errors FastAPI would, once each,
and calls the endpoint. The OpenAPI document still comes from the endpoint's signature.

`DirectRoutingApp` goes one step further: a request for a direct route skips FastAPI's
per-request layers (its telemetry and body-limit middleware, the exit stacks, the router's walk
over every route) and runs through the app's own middleware and exception handlers straight to
the route's handler. Measured under `bench/bench_feed.py`, those layers were about a fifth of a
feed request's CPU.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class _Parameter:
    name: str
    alias: str
    location: str  # "path" or "query"
    adapter: TypeAdapter[Any]
    required: bool
    default: Any


class DirectRoute(APIRoute):
    handle_request: Callable[[Request], Coroutine[Any, Any, Response]]

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{endpoint.__name__} must be async to be routed directly")
        super().__init__(path, endpoint, **kwargs)
        dependant = self.dependant
        if (
            dependant.dependencies
            or dependant.body_params
            or dependant.header_params
            or dependant.cookie_params
            or self.dependencies
        ):
            raise TypeError(f"{endpoint.__name__} may take only the request and path or query parameters")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        self.handle_request = self._handler()
        return self.handle_request

    def _handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[..., Coroutine[Any, Any, Response]] = self.endpoint
        request_name = self.dependant.request_param_name
        parameters = [
            *(_parameter(field, "path") for field in self.dependant.path_params),
            *(_parameter(field, "query") for field in self.dependant.query_params),
        ]

        async def handle(request: Request) -> Response:
            values: dict[str, Any] = {}
            errors: list[Any] = []
            query: Mapping[str, str] | None = None
            for parameter in parameters:
                if parameter.location == "path":
                    source: Mapping[str, str] = request.path_params
                else:
                    # As Starlette parses it (the last of repeated names wins), without building
                    # its multi-dict.
                    if query is None:
                        raw = request.scope["query_string"].decode("latin-1")
                        query = dict(parse_qsl(raw, keep_blank_values=True)) if raw else {}
                    source = query
                _read(parameter, source.get(parameter.alias), values, errors)
            if errors:
                raise RequestValidationError(errors)
            if request_name:
                values[request_name] = request
            return await endpoint(**values)

        return handle


def _parameter(field: Any, location: str) -> _Parameter:
    info = field.field_info
    annotation: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    required = info.is_required()
    return _Parameter(
        name=field.name,
        alias=field.alias,
        location=location,
        adapter=TypeAdapter(annotation),
        required=required,
        default=None if required else info.get_default(call_default_factory=True),
    )


def _read(parameter: _Parameter, raw: str | None, values: dict[str, Any], errors: list[Any]) -> None:
    loc = (parameter.location, parameter.alias)
    if raw is None:
        if parameter.required:
            errors.append({"type": "missing", "loc": loc, "msg": "Field required", "input": None})
        else:
            values[parameter.name] = parameter.default
        return
    try:
        values[parameter.name] = parameter.adapter.validate_python(raw)
    except ValidationError as exc:
        errors.extend({**error, "loc": (*loc, *error["loc"])} for error in exc.errors(include_url=False))


class DirectRoutingApp(FastAPI):
    """FastAPI, with requests for its `DirectRoute`s served ahead of FastAPI's own layers.

    Such a request still passes the app's error middleware, its user middleware (request ids and
    metrics, body limits) and its exception handlers, built from the same configuration as the
    regular stack; only the router and FastAPI's own wrappers are skipped. Every other request,
    and every request under a `root_path`, takes the regular stack. The direct routes are those of
    the routers the app includes itself, which must include them as they are (no prefix or
    dependencies); they take precedence over any other route with the same method and path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direct_routes: list[DirectRoute] = []
        self._direct_lane: _DirectLane | None = None

    def include_router(self, router: APIRouter, *args: Any, **kwargs: Any) -> None:
        direct = [route for route in router.routes if isinstance(route, DirectRoute)]
        if direct and (args or kwargs.get("prefix") or kwargs.get("dependencies")):
            raise TypeError("a router with direct routes is included as it is: no prefix or dependencies")
        super().include_router(router, *args, **kwargs)
        self.direct_routes.extend(direct)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.root_path and not scope.get("root_path"):
            lane = self._direct_lane
            if lane is None:
                lane = self._direct_lane = _DirectLane(self, self.direct_routes)
            route = lane.match(scope)
            if route is not None:
                scope["app"] = self
                scope["router"] = self.router
                await lane.stack(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class _DirectLane:
    """The direct routes of an app, matched by method and path, and the stack that serves them."""

    def __init__(self, app: FastAPI, routes: list[DirectRoute]) -> None:
        self._static: dict[tuple[str, str], DirectRoute] = {}
        self._templated: list[DirectRoute] = []
        for route in routes:
            if route.param_convertors:
                self._templated.append(route)
            else:
                for method in route.methods or ():
                    self._static.setdefault((method, route.path), route)
        error_handler = None
        handlers: dict[Any, Any] = {}
        for key, value in app.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                handlers[key] = value
        stack: ASGIApp = ExceptionMiddleware(_serve_matched, handlers=handlers, debug=app.debug)
        for cls, args, kwargs in reversed(app.user_middleware):
            stack = cls(stack, *args, **kwargs)
        self.stack: ASGIApp = ServerErrorMiddleware(stack, handler=error_handler, debug=app.debug)

    def match(self, scope: Scope) -> DirectRoute | None:
        """The direct route for this request, with the scope filled in as the router would."""
        method: str = scope["method"]
        path: str = scope["path"]
        route = self._static.get((method, path))
        params: dict[str, Any] = {}
        if route is None:
            for candidate in self._templated:
                if method not in (candidate.methods or ()):
                    continue
                found = candidate.path_regex.match(path)
                if found is not None:
                    route = candidate
                    params = {
                        key: candidate.param_convertors[key].convert(value)
                        for key, value in found.groupdict().items()
                    }
                    break
            if route is None:
                return None
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params
        return route


async def _serve_matched(scope: Scope, receive: Receive, send: Send) -> None:
    route: DirectRoute = scope["route"]
    response = await route.handle_request(Request(scope, receive, send))
    await response(scope, receive, send)
