from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from connectors.http import RateLimitHeaders
from connectors.http.headers import parse_reset, parse_retry_after

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Mon, 02 Mar 2026 12:00:30 GMT", 30.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
    ids=["seconds", "fractional", "negative-clamped", "http-date", "garbage", "empty", "absent"],
)
def test_parse_retry_after_forms_give_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-02T12:01Z", 60.0),
        ("2026-03-02T11:59Z", 0.0),
        (str(int(NOW.timestamp()) + 45), 45.0),
        ("12", 12.0),
        ("later", None),
    ],
    ids=["jira-iso-minutes", "past", "epoch-seconds", "delta-seconds", "garbage"],
)
def test_parse_reset_forms_give_seconds_until_reset(value: str, expected: float | None) -> None:
    assert parse_reset(value, now=NOW) == expected


def test_rate_limit_headers_parse_reads_jira_cloud_headers() -> None:
    headers = httpx.Headers(
        {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "12",
            "X-RateLimit-NearLimit": "true",
            "X-RateLimit-Reset": "2026-03-02T12:02Z",
            "RateLimit-Reason": "jira-quota-based",
        }
    )

    parsed = RateLimitHeaders.parse(headers, now=NOW)

    assert parsed == RateLimitHeaders(
        reset_in=120.0, limit=100, remaining=12, near_limit=True, reason="jira-quota-based"
    )


def test_rate_limit_headers_requested_wait_prefers_retry_after_over_reset() -> None:
    headers = httpx.Headers({"Retry-After": "5", "X-RateLimit-Reset": "2026-03-02T12:02Z"})

    assert RateLimitHeaders.parse(headers, now=NOW).requested_wait() == 5.0
