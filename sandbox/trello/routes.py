"""The `/1/...` routes of the fake Trello: auth, rate limits, error bodies, batch, lenient paths."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Route, compile_path
from starlette.types import Receive, Scope, Send

from sandbox.trello import endpoints as api
from sandbox.trello import webhook_endpoints as hooks
from sandbox.trello.errors import TrelloWorldError
from sandbox.trello.state import TrelloWorld
from sandbox.trello.transport import (
    Credentials,
    TrelloReply,
    TrelloRequest,
    as_param,
    resolve_credentials,
)

Handler = Callable[[TrelloWorld, TrelloRequest], TrelloReply]
JSON_TYPE = "application/json; charset=utf-8"
MAX_BATCH_URLS = 10
_MEMBER_ROUTE = "/1/members/{member_id}"


@dataclass(frozen=True)
class _Endpoint:
    method: str
    path: str
    handler: Handler
    # Handlers that wait on the network run in a thread and take the world lock themselves.
    blocking: bool = False


def _batch(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    """GET /1/batch?urls=/boards/x,/cards/y: ≤ 10 GET routes without `/1`, answers keyed by status.

    [TOAS; TBAT]

    The `urls` value is split on commas after one URL-decoding, so a comma inside one URL's query must be
    encoded twice, as on Trello.
    """
    urls = [url.strip() for url in (req.get("urls") or "").split(",") if url.strip()]
    if not urls or len(urls) > MAX_BATCH_URLS:
        raise TrelloWorldError(400, "invalid value for urls")
    out: list[object] = []
    for url in urls:
        parts = urlsplit(url)
        path = _normalize("/" + parts.path.lstrip("/"))
        path = path if path.startswith("/1/") else "/1" + path
        if path == "/1/batch":
            continue  # a batch inside a batch is ignored
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        reply = _dispatch_get(world, path, params, req)
        out.append({str(reply.status): reply.json if reply.text is None else reply.text})
    return TrelloReply(json=out)


_ENDPOINTS: tuple[_Endpoint, ...] = (
    _Endpoint("GET", "/1/batch", _batch),
    _Endpoint("GET", "/1/members/{member_id}", api.member),
    _Endpoint("GET", "/1/members/{member_id}/boards", api.member_boards),
    _Endpoint("GET", "/1/members/{member_id}/boards/{filter}", api.member_boards),
    _Endpoint("GET", "/1/members/{member_id}/organizations", api.member_organizations),
    _Endpoint("GET", "/1/organizations/{org_id}", api.organization),
    _Endpoint("GET", "/1/organizations/{org_id}/boards", api.organization_boards),
    _Endpoint("GET", "/1/boards/{board_id}", api.board),
    _Endpoint("GET", "/1/boards/{board_id}/cards", api.board_cards),
    _Endpoint("GET", "/1/boards/{board_id}/cards/{filter}", api.board_cards),
    _Endpoint("GET", "/1/boards/{board_id}/lists", api.board_lists),
    _Endpoint("GET", "/1/boards/{board_id}/lists/{filter}", api.board_lists),
    _Endpoint("GET", "/1/boards/{board_id}/labels", api.board_labels),
    _Endpoint("GET", "/1/boards/{board_id}/members", api.board_members),
    _Endpoint("GET", "/1/boards/{board_id}/customFields", api.board_custom_fields),
    _Endpoint("GET", "/1/boards/{board_id}/checklists", api.board_checklists),
    _Endpoint("GET", "/1/boards/{board_id}/actions", api.board_actions),
    _Endpoint("GET", "/1/lists/{list_id}", api.list_),
    _Endpoint("GET", "/1/lists/{list_id}/cards", api.list_cards),
    _Endpoint("GET", "/1/cards/{card_id}", api.card),
    _Endpoint("GET", "/1/cards/{card_id}/actions", api.card_actions),
    _Endpoint("POST", "/1/cards/{card_id}/actions/comments", api.card_comment),
    _Endpoint("POST", "/1/webhooks", hooks.create_webhook, blocking=True),
    _Endpoint("GET", "/1/webhooks/{webhook_id}", hooks.get_webhook),
    _Endpoint("DELETE", "/1/webhooks/{webhook_id}", hooks.delete_webhook),
    _Endpoint("GET", "/1/tokens/{token}/webhooks", hooks.token_webhooks),
    _Endpoint("POST", "/1/tokens/{token}/webhooks", hooks.create_webhook, blocking=True),
    _Endpoint("GET", "/1/tokens/{token}/webhooks/{webhook_id}", hooks.get_webhook),
    _Endpoint("DELETE", "/1/tokens/{token}/webhooks/{webhook_id}", hooks.delete_webhook),
)
_GET_PATTERNS = tuple(
    (compile_path(endpoint.path)[0], endpoint) for endpoint in _ENDPOINTS if endpoint.method == "GET"
)


def _dispatch_get(
    world: TrelloWorld, path: str, params: dict[str, str], parent: TrelloRequest
) -> TrelloReply:
    for pattern, endpoint in _GET_PATTERNS:
        found = pattern.match(path)
        if found is None:
            continue
        sub = TrelloRequest(
            "GET", path, found.groupdict(), params, parent.credentials, parent.member, parent.token
        )
        return _run(world, endpoint.handler, sub)
    return TrelloReply(status=404, text=f"Cannot GET {path}")


def _run(world: TrelloWorld, handler: Handler, req: TrelloRequest) -> TrelloReply:
    try:
        return handler(world, req)
    except TrelloWorldError as exc:
        return TrelloReply(status=exc.status, text=exc.text)


def _normalize(path: str) -> str:
    collapsed = re.sub(r"/{2,}", "/", path)
    return collapsed.rstrip("/") or "/"


def _authenticate(world: TrelloWorld, creds: Credentials) -> TrelloReply | None:
    # Plain-text 401 bodies as Trello sends them [reference §8].
    if not creds.key or creds.key != world.api_key:
        return TrelloReply(status=401, text="invalid key")
    if not creds.token:
        return TrelloReply(status=401, text="unauthorized permission requested")
    if creds.token not in world.tokens:
        return TrelloReply(status=401, text="invalid token")
    return None


async def _read_params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method in {"POST", "PUT", "DELETE"}:
        content_type = request.headers.get("content-type", "")
        raw = await request.body()
        if raw and "json" in content_type:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = None
            if isinstance(body, dict):
                params.update({str(k): as_param(v) for k, v in body.items()})
        elif raw and "application/x-www-form-urlencoded" in content_type:
            # Parsed here: Starlette's form parser needs python-multipart, which is not a dependency.
            params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _render(reply: TrelloReply, headers: dict[str, str]) -> Response:
    merged = {**headers, **reply.headers}
    if reply.text is not None:
        return PlainTextResponse(reply.text, status_code=reply.status, headers=merged)
    return Response(orjson.dumps(reply.json), status_code=reply.status, headers=merged, media_type=JSON_TYPE)


def _make_endpoint(world: TrelloWorld, endpoint: _Endpoint) -> Callable[[Request], Awaitable[Response]]:
    member_route = endpoint.path == _MEMBER_ROUTE

    async def serve(request: Request) -> Response:
        params = await _read_params(request)
        path_params = {k: str(v) for k, v in request.path_params.items()}
        creds = resolve_credentials(params, request.headers.get("authorization"), path_params.get("token"))
        refused = _authenticate(world, creds)
        if refused is not None:
            return _render(refused, {})
        token = creds.token or ""
        cost = 1
        if endpoint.handler is _batch and world.rate_limiter.limits.count_batch_urls:
            cost = max(1, len([u for u in params.get("urls", "").split(",") if u.strip()]))
        decision = world.rate_limiter.check(
            key=world.api_key, token=token, member_route=member_route, cost=cost
        )
        if decision.error is not None:
            limited = TrelloReply(
                status=429, json={"error": decision.error, "message": "Rate limit exceeded"}
            )
            return _render(limited, decision.headers)
        req = TrelloRequest(
            request.method, request.url.path, path_params, params, creds, world.member_for_token(token), token
        )
        if endpoint.blocking:
            reply = await run_in_threadpool(_run, world, endpoint.handler, req)
        else:
            with world.lock:
                reply = _run(world, endpoint.handler, req)
        return _render(reply, decision.headers)

    return serve


class _LenientTrelloPaths(BaseRoute):
    """Serves `/1/...` paths no route matched: doubled slashes and trailing slashes, as Trello does
    (py-trello calls `/1/members/me/boards/`; `…/1//members/me` works on the real service), and answers
    unknown `/1/...` paths with Trello's Express-style 404 text.

    After a match it sets `scope["route"]` to the real route, so request logs see the route template.
    """

    def __init__(self, routes: list[Route]) -> None:
        self._routes = routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = _normalize(scope["path"])
        return (Match.FULL, {}) if path == "/1" or path.startswith("/1/") else (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        normalized = _normalize(scope["path"])
        candidate = {**scope, "path": normalized, "raw_path": normalized.encode()}
        for route in self._routes:
            match, child = route.matches(candidate)
            if match is Match.FULL:
                scope.update(candidate)
                scope.update(child)
                scope["route"] = route
                await route.handle(scope, receive, send)
                return
        response = PlainTextResponse(f"Cannot {scope['method']} {normalized}", status_code=404)
        await response(scope, receive, send)


def trello_routes(world: TrelloWorld) -> list[BaseRoute]:
    """The `/1/...` API, mounted at the app root; the lenient catch-all of `/1/...` comes last."""
    routes = [
        Route(endpoint.path, _make_endpoint(world, endpoint), methods=[endpoint.method])
        for endpoint in _ENDPOINTS
    ]
    return [*routes, _LenientTrelloPaths(routes)]
