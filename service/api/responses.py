"""Read responses with an ETag; a matching `If-None-Match` answers 304 with no body."""

from __future__ import annotations

import hashlib

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

JSON_MEDIA_TYPE = "application/json"


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
    return any(candidate.strip().removeprefix("W/") == etag for candidate in header.split(","))


def cached_body(request: Request, body: bytes, *, media_type: str = JSON_MEDIA_TYPE) -> Response:
    etag = _etag(body)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)


def cached_json(request: Request, model: BaseModel) -> Response:
    return cached_body(request, orjson.dumps(model.model_dump(mode="json")))
