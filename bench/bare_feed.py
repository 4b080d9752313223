"""The bare stack `bench_feed.py --bare` measures pmbridge's feed against (docs/ARCHITECTURE.md, hot
paths): an async endpoint that reads a page of 50 events by client and cursor from the same SQLite
table on a per-thread connection and serializes it with orjson, and nothing else: no token hashing,
scope, freshness, cursor signature, ETag, middleware or metrics. The bearer token and the cursor are
looked up in dicts the benchmark writes (`BARE_FEED_KEYS`). Served by uvicorn like pmbridge, as a
FastAPI route (`fastapi_app`) or a Starlette one (`starlette_app`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Mapping
from functools import cache

import orjson
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route

_PAGE = (
    "SELECT id, kind, project_id, summary, payload, occurred_at FROM feed_events "
    "WHERE client_id = ? AND id > ? ORDER BY id LIMIT ?"
)
_local = threading.local()


@cache
def _keys() -> tuple[dict[str, int], dict[str, int]]:
    """(bearer token → client id, opaque cursor → event id), as the benchmark wrote them."""
    keys = json.loads(open(os.environ["BARE_FEED_KEYS"]).read())  # noqa: SIM115
    return keys["tokens"], keys["cursors"]


def _connection() -> sqlite3.Connection:
    connection: sqlite3.Connection | None = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(os.environ["BARE_DB"], isolation_level=None, check_same_thread=False)
        _local.connection = connection
    return connection


def _page(headers: Mapping[str, str], query: Mapping[str, str]) -> Response:
    tokens, cursors = _keys()
    client_id = tokens.get(headers.get("authorization", "").removeprefix("Bearer "))
    if client_id is None:
        return Response(status_code=401)
    after = cursors.get(query.get("after", ""), 0)
    limit = int(query.get("limit", "50"))
    rows = _connection().execute(_PAGE, (client_id, after, limit + 1)).fetchall()
    events = [
        {
            "id": row[0],
            "kind": row[1],
            "project_id": row[2],
            "summary": row[3],
            "payload": orjson.Fragment(row[4]),
            "occurred_at": row[5],
        }
        for row in rows[:limit]
    ]
    next_cursor = str(events[-1]["id"]) if events else None
    body = orjson.dumps({"events": events, "next_cursor": next_cursor, "has_more": len(rows) > limit})
    return Response(body, media_type="application/json")


fastapi_app = FastAPI()


@fastapi_app.get("/v1/feed")
async def feed_fastapi(request: Request) -> Response:
    return _page(request.headers, request.query_params)


async def feed_starlette(request: StarletteRequest) -> Response:
    return _page(request.headers, request.query_params)


starlette_app = Starlette(routes=[Route("/v1/feed", feed_starlette, methods=["GET"])])
