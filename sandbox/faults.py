"""Fault injection per route: latency, 5xx, 429 with Retry-After, timeouts, malformed and truncated bodies.

Rules match a route key (`"GET /rest/api/3/search/jql"`, the same keys as the request log) or `"*"`, fire
with a probability (seeded, so runs repeat) and optionally only `times` times.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.requestlog import CONTROL_PREFIX, RouteResolver, route_key

FaultKind = Literal["latency", "error", "rate_limit", "timeout", "malformed", "truncated"]
FAULT_KINDS: tuple[str, ...] = ("latency", "error", "rate_limit", "timeout", "malformed", "truncated")


@dataclass
class FaultRule:
    route: str
    kind: FaultKind
    status: int = 503
    latency_s: float = 0.0
    retry_after_s: int | None = None
    probability: float = 1.0
    times: int | None = None
    id: int = 0
    fired: int = field(default=0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    def __init__(self, *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: dict[int, FaultRule] = {}
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        if rule.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {rule.kind!r}")
        if not 0.0 <= rule.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        with self._lock:
            rule.id = next(self._ids)
            self._rules[rule.id] = rule
        return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            return self._rules.pop(rule_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules.values())

    def draw(self, key: str) -> list[FaultRule]:
        """The rules that fire for one request to `key` (consumes their `times`)."""
        fired: list[FaultRule] = []
        with self._lock:
            for rule in list(self._rules.values()):
                if rule.route not in ("*", key):
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        del self._rules[rule.id]
                fired.append(rule)
        return fired


def _is_trello(path: str) -> bool:
    return path == "/1" or path.startswith("/1/")


def _error_response(rule: FaultRule, path: str) -> tuple[int, dict[str, str], bytes]:
    headers: dict[str, str] = {}
    if rule.kind == "rate_limit":
        retry_after = rule.retry_after_s if rule.retry_after_s is not None else 1
        if _is_trello(path):
            body = orjson.dumps({"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"})
            headers = {"x-rate-limit-api-token-max": "100", "x-rate-limit-api-token-remaining": "0"}
        else:
            reset = datetime.now(UTC) + timedelta(seconds=retry_after)
            body = orjson.dumps({"errorMessages": ["Rate limit exceeded."], "errors": {}})
            headers = {
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
                "RateLimit-Reason": "jira-burst-based",
            }
        headers["Retry-After"] = str(retry_after)
        return 429, headers, body
    if rule.retry_after_s is not None:
        headers["Retry-After"] = str(rule.retry_after_s)
    if _is_trello(path):
        return rule.status, headers, b"Internal Server Error"
    return rule.status, headers, orjson.dumps({"errorMessages": ["Internal server error"], "errors": {}})


class FaultMiddleware:
    def __init__(self, app: ASGIApp, *, faults: Faults, resolver: RouteResolver) -> None:
        self.app = app
        self.faults = faults
        self.resolver = resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        template = self.resolver.template(scope)
        rules = self.faults.draw(route_key(scope["method"], template)) if template else []
        if not rules:
            await self.app(scope, receive, send)
            return
        rewrite: FaultRule | None = None
        for rule in rules:
            if rule.kind in ("latency", "timeout"):
                # A timeout is a delay longer than the client waits; the response still comes, too late.
                await asyncio.sleep(rule.latency_s if rule.latency_s > 0 else 30.0)
            elif rule.kind in ("error", "rate_limit"):
                status, headers, body = _error_response(rule, scope["path"])
                await _send_plain(send, status, headers, body)
                return
            else:
                rewrite = rule
        if rewrite is None:
            await self.app(scope, receive, send)
            return
        await self._rewrite(scope, receive, send, rewrite)

    async def _rewrite(self, scope: Scope, receive: Receive, send: Send, rule: FaultRule) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None:
            return
        body = b"".join(chunks)
        if rule.kind == "truncated":
            body = body[: len(body) // 2]
        else:
            body = b"<html><body><h1>502 Bad Gateway</h1>" + body[:32] + b"</body>"
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _send_plain(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    content_type = (
        b"text/plain; charset=utf-8" if not body.startswith(b"{") else b"application/json;charset=UTF-8"
    )
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw += [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
