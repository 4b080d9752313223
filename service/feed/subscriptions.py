"""Pushing feed events to subscribed URLs, signed, in feed order.

Each delivery is one POST of `{"event": <the feed API's event>, "cursor": <opaque feed cursor>}`
with two headers:

    X-Pmbridge-Timestamp: <unix seconds when it was sent>
    X-Pmbridge-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>

A receiver checks both with `verify_signature` (or the same few lines in its own language) and
refuses a timestamp older than a few minutes, so a captured delivery cannot be replayed. Events
are delivered at least once: a receiver deduplicates by `event.id`, and when it has missed
anything it catches up with `GET /v1/feed?after=<cursor of the last delivery it processed>`.

The URL is checked again at send time: the host is resolved once, every address must be public,
and the request goes to that address (with the host name for TLS and the Host header), so DNS
cannot be turned onto the private network between the check and the connection. Redirects are
never followed; only a 2xx answer counts as delivered.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from service.errors import InvalidInputError
from service.feed.cursor import FeedCursorCodec
from service.logging import get_logger
from service.netcheck import OutboundRefused, Resolver, check_public_url, pinned_address, resolve_host
from service.store.db import transaction
from service.store.feed_queries import FeedEventRecord
from service.store.runtime import Store
from service.store.subscriptions import (
    ClaimedSubscription,
    Jitter,
    advance_subscription,
    claim_subscription,
    list_due_subscriptions,
    read_events_after,
    record_delivery_failure,
    release_subscription,
)

log = get_logger(__name__)

TIMESTAMP_HEADER = "X-Pmbridge-Timestamp"
SIGNATURE_HEADER = "X-Pmbridge-Signature"
SIGNATURE_VERSION = "v1"
# A receiver that answers slower than this is treated as down; the event is retried later.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_USER_AGENT = "pmbridge-subscriptions/1"


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    delivered: int = 0
    failed: int = 0
    parked: int = 0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_signature(
    secret: str, timestamp: str, body: bytes, header: str, *, now: datetime, tolerance_s: int = 300
) -> bool:
    """For receivers: True when `header` (X-Pmbridge-Signature) signs `body` with `timestamp`
    (X-Pmbridge-Timestamp, as received) and the timestamp is within `tolerance_s` of `now`.

    Pass the raw request body, before any JSON parsing; compare in constant time, as here.
    """
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now.timestamp() - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body).encode(), header.strip().encode())


def delivery_body(event: FeedEventRecord, *, cursor: str) -> bytes:
    return orjson.dumps(
        {
            "event": {
                "id": event.id,
                "kind": event.kind,
                "project_id": event.project_id,
                "summary": event.summary,
                "payload": orjson.Fragment(event.payload_json),
                "occurred_at": event.occurred_at,
                "recorded_at": event.recorded_at,
            },
            "cursor": cursor,
        }
    )


class DeliveryRefused(Exception):
    """The URL may not be sent to now (it resolves to a private address, or not at all)."""


def _pinned(url: str, *, resolver: Resolver) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with its host replaced by the address the outbound policy checked, the Host header
    and the TLS name (`service.netcheck.pinned_address`, as every client of a source)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        address = pinned_address(httpx.URL(url), resolver=resolver)
    except OutboundRefused as exc:
        raise DeliveryRefused(str(exc)) from exc
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, {"sni_hostname": host}


def _post(
    client: httpx.Client,
    target: ClaimedSubscription,
    body: bytes,
    *,
    now: datetime,
    allow_private: bool,
    resolver: Resolver,
) -> int:
    """POST one delivery; the status of a 2xx answer, else DeliveryRefused or httpx errors."""
    check_public_url(target.url, allow_private=allow_private, field="url", allow_query=True)
    url, headers, extensions = (
        (target.url, {}, {}) if allow_private else _pinned(target.url, resolver=resolver)
    )
    timestamp = int(now.timestamp())
    headers |= {
        "Content-Type": "application/json",
        "User-Agent": _USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(target.secret, timestamp, body),
    }
    response = client.post(url, content=body, headers=headers, extensions=extensions)
    if not response.is_success:
        raise httpx.HTTPStatusError(
            f"the receiver answered {response.status_code}", request=response.request, response=response
        )
    return response.status_code


def _deliver_one(
    store: Store,
    client: httpx.Client,
    target: ClaimedSubscription,
    *,
    codec: FeedCursorCodec,
    now: datetime,
    allow_private: bool,
    resolver: Resolver,
    events_per_run: int,
    jitter: Jitter | None,
) -> DeliverySummary:
    with store.sessions() as session:
        pending = read_events_after(
            session, client_id=target.client_id, after_id=target.last_event_id, limit=events_per_run
        )
    delivered = 0
    for event in pending.events:
        body = delivery_body(event, cursor=codec.encode(client_id=target.client_id, event_id=event.id))
        status: int | None = None
        try:
            status = _post(client, target, body, now=now, allow_private=allow_private, resolver=resolver)
        except (DeliveryRefused, InvalidInputError, httpx.HTTPError) as exc:
            if isinstance(exc, httpx.HTTPStatusError):
                status = exc.response.status_code
            error = exc.message if isinstance(exc, InvalidInputError) else str(exc) or type(exc).__name__
            with transaction(store.sessions) as session:
                after = record_delivery_failure(
                    session, subscription_id=target.id, status=status, error=error, now=now, jitter=jitter
                )
            log.warning(
                "feed.delivery.failed",
                subscription_id=target.id,
                event_id=event.id,
                status=status,
                attempts=after.attempts,
                parked=after.parked_at is not None,
            )
            return DeliverySummary(delivered=delivered, failed=1, parked=int(after.parked_at is not None))
        with transaction(store.sessions) as session:
            advance_subscription(session, subscription_id=target.id, event_id=event.id, status=status)
        delivered += 1
    with transaction(store.sessions) as session:
        if pending.last_read_id is not None:
            advance_subscription(
                session, subscription_id=target.id, event_id=pending.last_read_id, status=None
            )
        release_subscription(session, subscription_id=target.id)
    return DeliverySummary(delivered=delivered)


def deliver_due(
    store: Store,
    *,
    codec: FeedCursorCodec,
    now: datetime,
    allow_private: bool,
    transport: httpx.BaseTransport | None = None,
    resolver: Resolver = resolve_host,
    limit: int = 100,
    events_per_run: int = 50,
    jitter: Jitter | None = None,
) -> DeliverySummary:
    """Deliver pending events to up to `limit` due subscriptions, up to `events_per_run` each, in
    feed order; a subscription stops at its first failure and is retried after a backoff."""
    with store.sessions() as session:
        due = list_due_subscriptions(session, now=now, limit=limit)
    delivered = failed = parked = 0
    with httpx.Client(transport=transport, timeout=TIMEOUT, follow_redirects=False) as client:
        for subscription_id in due:
            with transaction(store.sessions) as session:
                target = claim_subscription(
                    session, cipher=store.cipher, subscription_id=subscription_id, now=now
                )
            if target is None:
                continue
            outcome = _deliver_one(
                store,
                client,
                target,
                codec=codec,
                now=now,
                allow_private=allow_private,
                resolver=resolver,
                events_per_run=events_per_run,
                jitter=jitter,
            )
            delivered += outcome.delivered
            failed += outcome.failed
            parked += outcome.parked
    if delivered or failed:
        log.info("feed.subscriptions.drained", delivered=delivered, failed=failed, parked=parked)
    return DeliverySummary(delivered=delivered, failed=failed, parked=parked)
