"""Direct routes are served ahead of FastAPI's layers, with the app's own middleware and errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Query, Request, Response
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.direct_route import DirectRoute, DirectRoutingApp
from service.api.errors import install_error_handlers
from service.api.limits import BodySizeLimit
from service.api.middleware import REQUEST_ID_HEADER, RequestContextMiddleware, route_template
from service.errors import NotFoundError


def _app() -> tuple[DirectRoutingApp, list[str]]:
    """An app with direct routes and a regular one; returns the paths the regular stack served."""
    direct = APIRouter(prefix="/v1", route_class=DirectRoute)

    @direct.get("/things/{thing_id}")
    async def get_thing(request: Request, thing_id: int, limit: Annotated[int, Query(le=10)] = 5) -> Response:
        if thing_id == 404:
            raise NotFoundError("no such thing", details={"thing_id": thing_id})
        if thing_id == 401:
            raise HTTPException(401, "who are you", headers={"WWW-Authenticate": "Bearer"})
        if thing_id == 500:
            raise RuntimeError("boom")
        return Response(f"{thing_id}:{limit}:{route_template(request.scope)}".encode())

    @direct.post("/things")
    async def post_thing(request: Request) -> Response:
        return Response(await request.body(), status_code=201)

    regular = APIRouter()

    @regular.get("/v1/other")
    def other() -> dict[str, str]:
        return {"served": "regular"}

    app = DirectRoutingApp()
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(BodySizeLimit, limit=16)
    app.include_router(direct)
    app.include_router(regular)
    served: list[str] = []
    build = app.build_middleware_stack

    def recording_stack() -> ASGIApp:
        stack = build()

        async def record(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                served.append(scope["path"])
            await stack(scope, receive, send)

        return record

    app.build_middleware_stack = recording_stack  # type: ignore[method-assign]
    return app, served


def _client(app: DirectRoutingApp) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def test_a_direct_route_skips_the_regular_stack_and_keeps_request_ids_and_route_labels() -> None:
    app, served = _app()
    with _client(app) as client:
        response = client.get("/v1/things/7?limit=3", headers={REQUEST_ID_HEADER: "abc-1"})
        other = client.get("/v1/other")
    assert response.status_code == 200
    assert response.text == "7:3:/v1/things/{thing_id}"
    assert response.headers[REQUEST_ID_HEADER] == "abc-1"
    assert other.json() == {"served": "regular"}
    assert served == ["/v1/other"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/things/404", 404, "not_found"),
        ("/v1/things/401", 401, "unauthorized"),
        ("/v1/things/abc", 422, "validation_failed"),
        ("/v1/things/1?limit=11", 422, "validation_failed"),
        ("/v1/things/500", 500, "internal_error"),
    ],
)
def test_a_direct_route_answers_errors_in_the_apps_error_shape(path: str, status: int, code: str) -> None:
    app, served = _app()
    with _client(app) as client:
        response = client.get(path)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.headers[REQUEST_ID_HEADER]  # an unexpected error's answer too
    assert served == []
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_direct_route_keeps_the_apps_body_limit() -> None:
    app, served = _app()
    with _client(app) as client:
        small = client.post("/v1/things", content=b"12345")
        large = client.post("/v1/things", content=b"x" * 17)
    assert (small.status_code, small.content) == (201, b"12345")
    assert large.status_code == 413
    assert large.json()["error"]["code"] == "payload_too_large"
    assert served == []


def test_other_methods_and_paths_take_the_regular_stack() -> None:
    app, served = _app()
    with _client(app) as client:
        wrong_method = client.delete("/v1/things/7")
        unknown = client.get("/v1/things")
    assert wrong_method.status_code == 405
    assert unknown.status_code == 405  # POST /v1/things exists
    assert served == ["/v1/things/7", "/v1/things"]


def test_direct_routes_are_included_as_they_are() -> None:
    router = APIRouter(route_class=DirectRoute)

    @router.get("/x")
    async def endpoint() -> Response:
        return Response()

    app = DirectRoutingApp()
    dependency: Callable[[], Any] = lambda: None  # noqa: E731
    with pytest.raises(TypeError):
        app.include_router(router, prefix="/v2")
    with pytest.raises(TypeError):
        app.include_router(router, dependencies=[dependency])
    app.include_router(router)
    assert app.direct_routes == [router.routes[0]]
