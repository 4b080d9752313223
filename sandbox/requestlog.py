"""Counts API calls by `"METHOD /route/template"` (Starlette templates), for benchmarks and tests.

Control API calls (`/_sandbox/…`) are not counted: they are not calls a client makes to Jira or Trello.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

CONTROL_PREFIX = "/_sandbox"
UNMATCHED = "(unmatched)"


def route_key(method: str, template: str) -> str:
    return f"{method} {template}"


class RouteResolver:
    """The route template a request would be served by, resolved before routing (faults need it)."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes
        self._cache: dict[tuple[str, str], str | None] = {}

    def template(self, scope: Scope) -> str | None:
        key = (scope["method"], scope["path"])
        if key in self._cache:
            return self._cache[key]
        found = self._resolve(self._routes, scope, "")
        if len(self._cache) > 20_000:
            self._cache.clear()
        self._cache[key] = found
        return found

    def _resolve(self, routes: Sequence[BaseRoute], scope: Scope, prefix: str) -> str | None:
        partial: str | None = None
        for route in routes:
            match, child = route.matches(scope)
            path = getattr(route, "path", None)
            if match is Match.FULL:
                if isinstance(route, Mount):
                    return (
                        self._resolve(route.routes, {**scope, **child}, prefix + route.path)
                        or prefix + route.path
                    )
                return prefix + path if isinstance(path, str) else None
            if match is Match.PARTIAL and partial is None and isinstance(path, str):
                partial = prefix + path
        return partial


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, object]:
        """`{"total": n, "by_route": {"GET /rest/api/3/search/jql": n, …}}`."""
        with self._lock:
            return {"total": sum(self._counts.values()), "by_route": dict(sorted(self._counts.items()))}

    def count(self, key: str) -> int:
        with self._lock:
            return self._counts[key]

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class RequestLogMiddleware:
    """Records each non-control HTTP request under the template of the route that served it."""

    def __init__(self, app: ASGIApp, *, log: RequestLog, resolver: RouteResolver) -> None:
        self.app = app
        self.log = log
        self.resolver = resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            # The router leaves the route it chose in scope["route"]; a catch-all route may hand over to a
            # more precise one, so prefer what the router recorded to what we resolve up front.
            template = getattr(scope.get("route"), "path", None)
            if not isinstance(template, str):
                template = self.resolver.template(scope) or UNMATCHED
            self.log.record(route_key(scope["method"], template))
