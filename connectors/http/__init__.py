"""Shared HTTP machinery for provider connectors: session, retries, pacing, paging, errors."""

from connectors.http.accounting import CallAccounting, CallSnapshot
from connectors.http.errors import (
    AuthError,
    ConnectorError,
    InvalidPayloadError,
    InvalidResponseError,
    NotFoundError,
    PaginationLoopError,
    PermanentError,
    RateLimitedError,
    TransientError,
    UnsupportedOperationError,
)
from connectors.http.headers import RateLimitHeaders
from connectors.http.pagination import paginate_by_offset, paginate_by_token
from connectors.http.ratelimit import JIRA_ISSUE_WRITE_WINDOWS, RateLimiter
from connectors.http.retry import RetryPolicy
from connectors.http.session import DEFAULT_TIMEOUT, BearerAuth, HttpSession, Params, build_http_client
from connectors.http.translate import parse_body

__all__ = [
    "DEFAULT_TIMEOUT",
    "JIRA_ISSUE_WRITE_WINDOWS",
    "AuthError",
    "BearerAuth",
    "CallAccounting",
    "CallSnapshot",
    "ConnectorError",
    "HttpSession",
    "InvalidPayloadError",
    "InvalidResponseError",
    "NotFoundError",
    "PaginationLoopError",
    "Params",
    "PermanentError",
    "RateLimitHeaders",
    "RateLimitedError",
    "RateLimiter",
    "RetryPolicy",
    "TransientError",
    "UnsupportedOperationError",
    "build_http_client",
    "paginate_by_offset",
    "paginate_by_token",
    "parse_body",
]
