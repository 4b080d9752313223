"""httpx responses and exceptions translated into the connector error hierarchy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypedDict, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from connectors.http.errors import (
    AuthError,
    ConnectorError,
    InvalidResponseError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from connectors.http.headers import RateLimitHeaders

T = TypeVar("T")

Redactor = Callable[[str], str]
_MAX_TEXT_BODY = 200
_CONNECT_PHASE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class _ErrorContext(TypedDict):
    endpoint: str
    status_code: int
    provider_messages: tuple[str, ...]


def error_from_response(
    response: httpx.Response, *, endpoint: str, limits: RateLimitHeaders, redact: Redactor
) -> ConnectorError:
    status = response.status_code
    messages = tuple(redact(message) for message in provider_messages(response))
    common = _ErrorContext(endpoint=endpoint, status_code=status, provider_messages=messages)
    if status == 429:
        return RateLimitedError(
            "rate limited (HTTP 429)", retry_after=limits.requested_wait(), reason=limits.reason, **common
        )
    if status == 408:
        return TransientError("request timeout (HTTP 408)", maybe_applied=False, **common)
    if status >= 500:
        return TransientError(f"server error (HTTP {status})", retry_after=limits.retry_after, **common)
    if status in (401, 403):
        denied = response.headers.get("x-authentication-denied-reason")
        detail = f"; denied: {redact(denied)}" if denied else ""
        return AuthError(f"authentication or permission failure (HTTP {status}){detail}", **common)
    if status == 404:
        return NotFoundError("not found (HTTP 404)", **common)
    return PermanentError(f"request rejected (HTTP {status})", **common)


def error_from_transport(exc: httpx.HTTPError, *, endpoint: str) -> ConnectorError:
    """Only the exception class is reported: httpx messages can quote the request URL."""
    kind = type(exc).__name__
    if isinstance(exc, _CONNECT_PHASE):
        return TransientError(f"connection failed ({kind})", endpoint=endpoint, maybe_applied=False)
    if isinstance(exc, _TRANSIENT_TRANSPORT):
        return TransientError(f"transport failure ({kind})", endpoint=endpoint, maybe_applied=True)
    return PermanentError(f"request could not be sent ({kind})", endpoint=endpoint)


def provider_messages(response: httpx.Response) -> list[str]:
    """Jira's `{"errorMessages": [...], "errors": {...}}` plus the `message`/`errorMessage` variants."""
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type:
        if content_type.startswith("text/plain") and response.content:
            return [response.text[:_MAX_TEXT_BODY]]
        return []
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    messages: list[str] = []
    error_messages = body.get("errorMessages")
    if isinstance(error_messages, list):
        messages.extend(str(message) for message in error_messages)
    errors = body.get("errors")
    if isinstance(errors, dict):
        messages.extend(f"{field}: {message}" for field, message in errors.items())
    for key in ("message", "errorMessage"):
        value = body.get(key)
        if isinstance(value, str):
            messages.append(value)
    return messages


def parse_body(adapter: TypeAdapter[T], response: httpx.Response, *, endpoint: str) -> T:
    """A 2xx body into its wire model; the body is never quoted in the error (it may hold customer data)."""
    try:
        return adapter.validate_json(response.content)
    except ValidationError as exc:
        raise InvalidResponseError(
            f"unexpected response shape ({exc.error_count()} validation errors)",
            endpoint=endpoint,
            status_code=response.status_code,
        ) from exc
