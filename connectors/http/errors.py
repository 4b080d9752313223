"""One error hierarchy for every provider connector.

Messages name the call by its route template (never the full URL, which may carry credentials in
the query string, as Trello's `key`/`token` do) and never include request headers.
"""

from __future__ import annotations

_MAX_DETAIL_CHARS = 300


class ConnectorError(Exception):
    """Base of every error a connector raises."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status_code: int | None = None,
        provider_messages: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status_code = status_code
        self.provider_messages = provider_messages

    def __str__(self) -> str:
        parts = [self.message]
        if self.endpoint is not None:
            parts.append(f"[{self.endpoint}]")
        if self.provider_messages:
            joined = "; ".join(self.provider_messages)
            parts.append(f": {joined[:_MAX_DETAIL_CHARS]}")
        return " ".join(parts)


class TransientError(ConnectorError):
    """The call may succeed if repeated later (429, 408, 5xx, transport failures).

    `retry_after` is the provider's requested wait in seconds, when it gave one. `maybe_applied`
    is true when the server may have acted on the request before failing (read timeout, 5xx), so a
    non-idempotent request must not be blindly repeated.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status_code: int | None = None,
        provider_messages: tuple[str, ...] = (),
        retry_after: float | None = None,
        maybe_applied: bool = True,
    ) -> None:
        super().__init__(
            message, endpoint=endpoint, status_code=status_code, provider_messages=provider_messages
        )
        self.retry_after = retry_after
        self.maybe_applied = maybe_applied


class RateLimitedError(TransientError):
    """The provider refused the call for rate or quota reasons (HTTP 429)."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status_code: int | None = 429,
        provider_messages: tuple[str, ...] = (),
        retry_after: float | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(
            message,
            endpoint=endpoint,
            status_code=status_code,
            provider_messages=provider_messages,
            retry_after=retry_after,
            maybe_applied=False,
        )
        self.reason = reason


class PermanentError(ConnectorError):
    """Repeating the same call will fail the same way; never retried."""


class AuthError(PermanentError):
    """The credentials were rejected (401) or lack a permission (403)."""


class NotFoundError(PermanentError):
    """The resource does not exist or is not visible to these credentials (404)."""


class PaginationLoopError(PermanentError):
    """A paginated endpoint handed back a page token (or offset) it had already returned."""


class UnsupportedOperationError(PermanentError):
    """The deployment does not offer this operation (e.g. a Cloud-only endpoint on Data Center)."""


class InvalidResponseError(PermanentError):
    """The provider answered 2xx with a body that does not match the expected shape."""


class InvalidPayloadError(PermanentError):
    """An inbound payload (webhook body) is malformed for the event it claims to be."""
