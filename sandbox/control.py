"""The control API under /_sandbox/: status, request log, clock, faults, webhook delivery, and the
per-provider mutation routes mounted at /_sandbox/jira and /_sandbox/trello."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast, get_args

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from sandbox.clock import ClockError
from sandbox.dispatcher import DeliveryOptions
from sandbox.faults import FaultKind, FaultRule
from sandbox.jira.control import jira_control_routes
from sandbox.trello.control import trello_control_routes

if TYPE_CHECKING:
    from sandbox.app import Sandbox


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = orjson.loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def control_routes(sandbox: Sandbox) -> list[BaseRoute]:
    async def status(request: Request) -> Response:
        info = sandbox.connection_info(_base(request))
        with sandbox.jira.lock:
            info["jira"]["projects"] = sorted(p.key for p in sandbox.jira.projects.values())
            info["jira"]["issues"] = len(sandbox.jira.issues)
        if sandbox.trello is not None:
            info["trello"]["boards"] = len(sandbox.trello.boards)
            info["trello"]["cards"] = len(sandbox.trello.cards)
        info["now"] = sandbox.clock.now().isoformat()
        return _json(info)

    async def requests(request: Request) -> Response:
        return _json(sandbox.request_log.snapshot())

    async def reset_requests(request: Request) -> Response:
        sandbox.request_log.reset()
        return _json(sandbox.request_log.snapshot())

    async def advance_clock(request: Request) -> Response:
        """Move the clock forward by days/hours/minutes/seconds, or `to` an ISO 8601 instant with its
        offset. A move backward is refused (`code` "clock_backward"); past the wall clock is allowed."""
        try:
            body = await _body(request)
            if "to" in body:
                target = datetime.fromisoformat(str(body["to"]))
                if target.tzinfo is None:
                    raise ValueError("'to' needs its UTC offset")
                delta = target - sandbox.clock.now()
            else:
                delta = timedelta(
                    days=float(body.get("days", 0)),
                    hours=float(body.get("hours", 0)),
                    minutes=float(body.get("minutes", 0)),
                    seconds=float(body.get("seconds", 0)),
                )
        except (ValueError, TypeError) as error:
            return _json({"error": str(error), "code": "invalid_move"}, 400)
        try:
            return _json({"now": sandbox.clock.advance_forward(delta).isoformat()})
        except ClockError as error:
            return _json(
                {"error": str(error), "code": "clock_backward", "now": sandbox.clock.now().isoformat()}, 400
            )

    async def list_faults(request: Request) -> Response:
        return _json([rule.to_json() for rule in sandbox.faults.rules()])

    async def add_fault(request: Request) -> Response:
        try:
            body = await _body(request)
            kind = str(body.get("kind"))
            if kind not in get_args(FaultKind):
                raise ValueError(f"kind must be one of {', '.join(get_args(FaultKind))}")
            rule = sandbox.faults.add(
                FaultRule(
                    route=str(body.get("route", "*")),
                    kind=cast(FaultKind, kind),
                    status=int(body.get("status", 503)),
                    latency_s=float(body.get("latency_s", 0.0)),
                    retry_after_s=int(body["retry_after_s"])
                    if body.get("retry_after_s") is not None
                    else None,
                    probability=float(body.get("probability", 1.0)),
                    times=int(body["times"]) if body.get("times") is not None else None,
                )
            )
        except (ValueError, TypeError) as error:
            return _json({"error": str(error)}, 400)
        return _json(rule.to_json(), 201)

    async def clear_faults(request: Request) -> Response:
        sandbox.faults.clear()
        return _json([])

    async def delete_fault(request: Request) -> Response:
        if not sandbox.faults.remove(int(request.path_params["rule_id"])):
            return _json({"error": "no such fault"}, 404)
        return Response(status_code=204)

    async def delivery(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await _body(request)
                sandbox.dispatcher.options = DeliveryOptions(
                    duplicate=float(body.get("duplicate", 0.0)),
                    delay_s=float(body.get("delay_s", 0.0)),
                    reorder_window=int(body.get("reorder_window", 1)),
                    reorder_hold_s=float(body.get("reorder_hold_s", 0.5)),
                )
            except (ValueError, TypeError) as error:
                return _json({"error": str(error)}, 400)
        options = sandbox.dispatcher.options
        return _json(
            {
                "duplicate": options.duplicate,
                "delay_s": options.delay_s,
                "reorder_window": options.reorder_window,
                "reorder_hold_s": options.reorder_hold_s,
            }
        )

    async def attempts(request: Request) -> Response:
        return _json(
            [
                {
                    "url": a.url,
                    "provider": a.provider,
                    "attempt": a.attempt,
                    "status": a.status,
                    "error": a.error,
                }
                for a in list(sandbox.dispatcher.attempts)
            ]
        )

    routes: list[BaseRoute] = [
        Route("/", status, methods=["GET"]),
        Route("/requests", requests, methods=["GET"]),
        Route("/requests/reset", reset_requests, methods=["POST"]),
        Route("/clock/advance", advance_clock, methods=["POST"]),
        Route("/faults", list_faults, methods=["GET"]),
        Route("/faults", add_fault, methods=["POST"]),
        Route("/faults", clear_faults, methods=["DELETE"]),
        Route("/faults/{rule_id:int}", delete_fault, methods=["DELETE"]),
        Route("/webhooks/delivery", delivery, methods=["GET", "POST"]),
        Route("/webhooks/attempts", attempts, methods=["GET"]),
        Mount("/jira", routes=jira_control_routes(sandbox.jira)),
    ]
    if sandbox.trello is not None:
        routes.append(Mount("/trello", routes=trello_control_routes(sandbox.trello)))
    return routes
