"""`GET /1/batch`: up to 10 GET routes in one call.

Routes go without the `/1` prefix, comma-separated in `urls`; the answer is an array in request
order, each element a one-key object keyed by the status code string, `[{"200": {...}}, ...]`
(TOAS; TBAT). Trello splits `urls` on commas after one URL-decoding, so a comma inside a route's own
query string must be escaped once more (`%2C`) before the whole value is encoded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import quote, urlencode

from pydantic import JsonValue, TypeAdapter, ValidationError

from connectors.http import InvalidResponseError

T = TypeVar("T")
MAX_BATCH_URLS = 10
_MAX_MESSAGE_CHARS = 200
_ELEMENTS = TypeAdapter(list[JsonValue])


@dataclass(frozen=True, slots=True)
class TrelloBatchResult(Generic[T]):
    """One sub-request's outcome; `value` is set only for a 2xx answer."""

    status_code: int
    value: T | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300 and self.value is not None


def batch_url(route: str, path: Mapping[str, str], params: Mapping[str, str]) -> str:
    """One `urls` entry: a route template such as "/cards/{card}" with its path and query filled in."""
    filled = route.format(**{name: quote(value, safe="") for name, value in path.items()})
    query = urlencode(params)
    entry = f"{filled}?{query}" if query else filled
    return entry.replace(",", "%2C")


def parse_batch(
    content: bytes,
    adapter: TypeAdapter[T],
    *,
    expected: int,
    endpoint: str,
    redact: Callable[[str], str],
) -> list[TrelloBatchResult[T]]:
    try:
        elements = _ELEMENTS.validate_json(content)
    except ValidationError as exc:
        raise InvalidResponseError("batch answer is not a JSON array", endpoint=endpoint) from exc
    if len(elements) != expected:
        raise InvalidResponseError(
            f"batch answered {len(elements)} results for {expected} routes", endpoint=endpoint
        )
    return [_parse_element(element, adapter, endpoint=endpoint, redact=redact) for element in elements]


def _parse_element(
    element: JsonValue, adapter: TypeAdapter[T], *, endpoint: str, redact: Callable[[str], str]
) -> TrelloBatchResult[T]:
    status, body = _status_and_body(element, endpoint=endpoint)
    if not 200 <= status < 300:
        message = _message(body)
        return TrelloBatchResult(status_code=status, message=redact(message) if message else None)
    try:
        return TrelloBatchResult(status_code=status, value=adapter.validate_python(body))
    except ValidationError as exc:
        raise InvalidResponseError(
            f"unexpected batch result shape ({exc.error_count()} validation errors)", endpoint=endpoint
        ) from exc


def _status_and_body(element: JsonValue, *, endpoint: str) -> tuple[int, JsonValue]:
    """`{"<status>": body}`; a bare error object with `statusCode` is accepted too, since the shape of
    failed elements is not documented."""
    if isinstance(element, dict):
        if len(element) == 1:
            ((key, body),) = element.items()
            if key.isdigit():
                return int(key), body
        status = element.get("statusCode")
        if isinstance(status, int):
            return status, element
    raise InvalidResponseError("unexpected batch element", endpoint=endpoint)


def _message(body: JsonValue) -> str | None:
    if isinstance(body, str):
        return body[:_MAX_MESSAGE_CHARS]
    if isinstance(body, dict):
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, str):
                return value[:_MAX_MESSAGE_CHARS]
    return None


def chunked(items: Sequence[str], size: int = MAX_BATCH_URLS) -> list[Sequence[str]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
