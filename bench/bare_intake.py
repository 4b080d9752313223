"""The bare stack `bench_webhooks.py --bare` measures pmbridge against (docs/ARCHITECTURE.md, hot
paths): an async endpoint that checks the HMAC-SHA256 signature and inserts the body into a SQLite
WAL inbox on a per-thread connection, and nothing else: no source lookup, middleware, metrics or job
trigger. Served by uvicorn like pmbridge, as a FastAPI route (`fastapi_app`) or a Starlette one
(`starlette_app`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading
from collections.abc import Mapping

from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route

SECRET = b"bench-webhook-secret"
ACCEPTED = b'{"status":"accepted"}'
_local = threading.local()


def _connection() -> sqlite3.Connection:
    connection: sqlite3.Connection | None = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(os.environ["BARE_DB"], isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, source_id INTEGER, "
            "delivery_id TEXT, body BLOB, UNIQUE (source_id, delivery_id))"
        )
        _local.connection = connection
    return connection


def _store(source_id: int, body: bytes, headers: Mapping[str, str]) -> Response:
    delivery_id, signature = headers.get("x-atlassian-webhook-identifier"), headers.get("x-hub-signature", "")
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        return Response(status_code=401)
    _connection().execute(
        "INSERT INTO inbox (source_id, delivery_id, body) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING RETURNING id",
        (source_id, delivery_id, body),
    ).fetchone()
    return Response(ACCEPTED, status_code=202, media_type="application/json")


fastapi_app = FastAPI()


@fastapi_app.post("/webhooks/jira/{source_id}")
async def receive_fastapi(source_id: int, request: Request) -> Response:
    return _store(source_id, await request.body(), request.headers)


async def receive_starlette(request: StarletteRequest) -> Response:
    return _store(int(request.path_params["source_id"]), await request.body(), request.headers)


starlette_app = Starlette(routes=[Route("/webhooks/jira/{source_id}", receive_starlette, methods=["POST"])])


def count_stored(path: str) -> int:
    with sqlite3.connect(path) as connection:
        count: int = connection.execute("SELECT count(*) FROM inbox").fetchone()[0]
        return count
