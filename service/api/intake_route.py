"""A route class for the webhook intake endpoints: documented like any route, dispatched directly.

FastAPI's handler for a route solves the endpoint's dependencies, validates and serializes per
request; on the intake path that machinery cost about as much as the rest of the request (verify,
store, acknowledge). These endpoints take exactly `(source_id: int, request: Request)`, read their
own body and build their own responses, so the route calls them with the path's source id
converted, and nothing else. The OpenAPI document still comes from the endpoint's signature and
the route's declared responses.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

IntakeEndpoint = Callable[[int, Request], Awaitable[Response]]


class IntakeRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if list(inspect.signature(endpoint).parameters) != ["source_id", "request"]:
            raise TypeError(f"{endpoint.__name__} must take (source_id: int, request: Request)")
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        target: IntakeEndpoint = self.endpoint

        async def handle(request: Request) -> Response:
            return await target(_source_id(request), request)

        return handle


def _source_id(request: Request) -> int:
    raw = request.path_params["source_id"]
    try:
        return int(raw)
    except ValueError:
        # The same 422 FastAPI gives for a path parameter that is not an integer.
        raise RequestValidationError(
            [
                {
                    "type": "int_parsing",
                    "loc": ("path", "source_id"),
                    "msg": "Input should be a valid integer, unable to parse string as an integer",
                    "input": raw,
                }
            ]
        ) from None
