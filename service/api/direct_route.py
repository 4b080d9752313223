"""A route class for the hot endpoints: documented like any route, dispatched directly.

FastAPI's handler for a route solves the endpoint's dependency graph, then validates and
serializes per request; on the webhook intake and the feed that machinery cost about as much as
the work itself (verify and store a delivery; read a page). A `DirectRoute` endpoint takes only
the request and scalar path and query parameters, and builds its own response: the route
validates those parameters with the same pydantic rules and 422 errors FastAPI would, once each,
and calls the endpoint. The OpenAPI document still comes from the endpoint's signature.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response


@dataclass(frozen=True, slots=True)
class _Parameter:
    name: str
    alias: str
    location: str  # "path" or "query"
    adapter: TypeAdapter[Any]
    required: bool
    default: Any


class DirectRoute(APIRoute):
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
        endpoint: Callable[..., Coroutine[Any, Any, Response]] = self.endpoint
        request_name = self.dependant.request_param_name
        parameters = [
            *(_parameter(field, "path") for field in self.dependant.path_params),
            *(_parameter(field, "query") for field in self.dependant.query_params),
        ]

        async def handle(request: Request) -> Response:
            values: dict[str, Any] = {}
            errors: list[Any] = []
            for parameter in parameters:
                source: Mapping[str, str] = (
                    request.path_params if parameter.location == "path" else request.query_params
                )
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
