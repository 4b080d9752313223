"""Event subscriptions: a client's push endpoint and its delivery cursor.

The secret that signs deliveries is generated here, returned once by `add_subscription` and
stored encrypted (it must be read back to sign, so unlike a token it cannot be kept as a hash).
`last_event_id` is the id of the last feed event delivered; deliveries go out one event at a
time after it, so their order is the feed's. A delivery that keeps failing backs off with full
jitter and, after a day of failures, parks until the operator retries it.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from service.errors import ConflictError, NotFoundError
from service.store.client_views import read_grants
from service.store.crypto import CredentialCipher
from service.store.feed_queries import FEED_EVENT_COLUMNS, FeedEventRecord, event_record
from service.store.orm import ClientRow, EventSubscriptionRow, FeedEventRow

CREATED_BY_CLIENT = "client"
CREATED_BY_OPERATOR = "operator"
_SECRET_BYTES = 32
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
PARK_AFTER = timedelta(hours=24)
# How long a worker owns a subscription it is delivering to; another worker's drain skips it
# meanwhile, and a worker that died hands it back once this passes.
CLAIM_FOR = timedelta(minutes=5)
_ERROR_LENGTH = 500

Jitter = Callable[[float, float], float]


def _uniform(low: float, high: float) -> float:
    return random.uniform(low, high)  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    client_id: int
    url: str
    created_by: str
    created_at: datetime
    disabled_at: datetime | None
    last_event_id: int
    attempts: int
    first_failed_at: datetime | None
    next_attempt_at: datetime | None
    parked_at: datetime | None
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class CreatedSubscription:
    subscription: Subscription
    secret: str


@dataclass(frozen=True, slots=True)
class ClaimedSubscription:
    """A subscription a worker now owns for delivery, with its signing secret."""

    id: int
    client_id: int
    url: str
    secret: str
    last_event_id: int
    attempts: int


def _subscription(row: EventSubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        client_id=row.client_id,
        url=row.url,
        created_by=row.created_by,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        last_event_id=row.last_event_id,
        attempts=row.attempts,
        first_failed_at=row.first_failed_at,
        next_attempt_at=row.next_attempt_at,
        parked_at=row.parked_at,
        last_status=row.last_status,
        last_error=row.last_error,
    )


def _latest_event_id(session: Session, *, client_id: int) -> int:
    found = session.scalar(select(func.max(FeedEventRow.id)).where(FeedEventRow.client_id == client_id))
    return int(found or 0)


def add_subscription(
    session: Session,
    *,
    cipher: CredentialCipher,
    client_id: int,
    url: str,
    created_by: str,
    now: datetime,
) -> CreatedSubscription:
    """Subscribe `url` (checked by the caller) to the client's events from now on: what happened
    before is in the feed. A disabled subscription to the same URL is replaced."""
    if session.get(ClientRow, client_id) is None:
        raise NotFoundError(f"client {client_id} not found", details={"client_id": client_id})
    existing = session.scalars(
        select(EventSubscriptionRow).where(
            EventSubscriptionRow.client_id == client_id, EventSubscriptionRow.url == url
        )
    ).one_or_none()
    if existing is not None:
        if existing.disabled_at is None:
            raise ConflictError(
                "a subscription to this URL exists already", details={"subscription_id": existing.id}
            )
        session.delete(existing)
        session.flush()
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    row = EventSubscriptionRow(
        client_id=client_id,
        url=url,
        secret_encrypted=cipher.encrypt(secret),
        created_by=created_by,
        created_at=now,
        last_event_id=_latest_event_id(session, client_id=client_id),
        attempts=0,
    )
    session.add(row)
    session.flush()
    return CreatedSubscription(subscription=_subscription(row), secret=secret)


def list_subscriptions(
    session: Session, *, client_id: int | None = None, parked_only: bool = False, limit: int = 500
) -> list[Subscription]:
    """Active subscriptions (of one client, or all), oldest first."""
    query = select(EventSubscriptionRow).where(EventSubscriptionRow.disabled_at.is_(None))
    if client_id is not None:
        query = query.where(EventSubscriptionRow.client_id == client_id)
    if parked_only:
        query = query.where(EventSubscriptionRow.parked_at.is_not(None))
    rows = session.scalars(query.order_by(EventSubscriptionRow.id).limit(limit))
    return [_subscription(row) for row in rows]


def _active_row(session: Session, *, subscription_id: int, client_id: int | None) -> EventSubscriptionRow:
    row = session.get(EventSubscriptionRow, subscription_id)
    # Another client's subscription answers like one that does not exist (docs/ARCHITECTURE.md, conventions).
    if row is None or row.disabled_at is not None or (client_id is not None and row.client_id != client_id):
        raise NotFoundError(
            f"subscription {subscription_id} not found", details={"subscription_id": subscription_id}
        )
    return row


def get_subscription(session: Session, *, subscription_id: int, client_id: int | None = None) -> Subscription:
    """An active subscription; with `client_id`, only one of that client's."""
    return _subscription(_active_row(session, subscription_id=subscription_id, client_id=client_id))


def disable_subscription(
    session: Session, *, subscription_id: int, client_id: int | None = None, now: datetime
) -> None:
    row = _active_row(session, subscription_id=subscription_id, client_id=client_id)
    row.disabled_at = now
    row.next_attempt_at = None


def unpark_subscription(session: Session, *, subscription_id: int, now: datetime) -> Subscription:
    """The operator's retry: deliver again at the next drain, with a fresh day of attempts."""
    row = _active_row(session, subscription_id=subscription_id, client_id=None)
    row.parked_at = None
    row.attempts = 0
    row.first_failed_at = None
    row.next_attempt_at = now
    session.flush()
    return _subscription(row)


def list_due_subscriptions(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Active, unparked subscriptions not waiting out a backoff that have events to deliver."""
    pending = exists().where(
        FeedEventRow.client_id == EventSubscriptionRow.client_id,
        FeedEventRow.id > EventSubscriptionRow.last_event_id,
    )
    query = (
        select(EventSubscriptionRow.id)
        .where(
            EventSubscriptionRow.disabled_at.is_(None),
            EventSubscriptionRow.parked_at.is_(None),
            or_(EventSubscriptionRow.next_attempt_at.is_(None), EventSubscriptionRow.next_attempt_at <= now),
            pending,
        )
        .order_by(EventSubscriptionRow.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim_subscription(
    session: Session, *, cipher: CredentialCipher, subscription_id: int, now: datetime
) -> ClaimedSubscription | None:
    """Own the subscription for CLAIM_FOR, or None when another worker owns it or it is not due."""
    claimed = session.execute(
        update(EventSubscriptionRow)
        .where(
            EventSubscriptionRow.id == subscription_id,
            EventSubscriptionRow.disabled_at.is_(None),
            EventSubscriptionRow.parked_at.is_(None),
            or_(EventSubscriptionRow.next_attempt_at.is_(None), EventSubscriptionRow.next_attempt_at <= now),
        )
        .values(next_attempt_at=now + CLAIM_FOR)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.get(EventSubscriptionRow, subscription_id, populate_existing=True)
    assert row is not None
    return ClaimedSubscription(
        id=row.id,
        client_id=row.client_id,
        url=row.url,
        secret=cipher.decrypt(row.secret_encrypted),
        last_event_id=row.last_event_id,
        attempts=row.attempts,
    )


@dataclass(frozen=True, slots=True)
class PendingEvents:
    """The next events to deliver, and the last event id read: events of a project dropped from the
    client's scope are skipped, as the feed skips them, but the cursor may move past them."""

    events: list[FeedEventRecord]
    last_read_id: int | None


def read_events_after(session: Session, *, client_id: int, after_id: int, limit: int) -> PendingEvents:
    project_ids = read_grants(session, client_id=client_id).project_ids
    rows = session.execute(
        select(*FEED_EVENT_COLUMNS)
        .where(FeedEventRow.client_id == client_id, FeedEventRow.id > after_id)
        .order_by(FeedEventRow.id)
        .limit(limit)
    ).all()
    events = [event_record(row) for row in rows if row[2] is None or row[2] in project_ids]
    return PendingEvents(events=events, last_read_id=rows[-1][0] if rows else None)


def advance_subscription(
    session: Session, *, subscription_id: int, event_id: int, status: int | None
) -> None:
    """Record a delivered (or skipped) event: the cursor moves past it and any failure streak ends.
    The claim stays until `release_subscription`."""
    session.execute(
        update(EventSubscriptionRow)
        .where(EventSubscriptionRow.id == subscription_id, EventSubscriptionRow.last_event_id < event_id)
        .values(
            last_event_id=event_id,
            attempts=0,
            first_failed_at=None,
            last_status=status if status is not None else EventSubscriptionRow.last_status,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )


def release_subscription(session: Session, *, subscription_id: int) -> None:
    """End a claim after a run without failure: due again as soon as there are new events."""
    session.execute(
        update(EventSubscriptionRow)
        .where(EventSubscriptionRow.id == subscription_id)
        .values(next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )


def backoff(attempts: int, *, jitter: Jitter = _uniform) -> timedelta:
    """Full jitter over a doubling ceiling from BACKOFF_BASE, capped at BACKOFF_CAP
    (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(max(attempts - 1, 0), 16)))
    return timedelta(seconds=jitter(0.0, ceiling.total_seconds()))


def record_delivery_failure(
    session: Session,
    *,
    subscription_id: int,
    status: int | None,
    error: str,
    now: datetime,
    jitter: Jitter | None = None,
) -> Subscription:
    """Count a failed attempt and schedule the next, or park once failures have lasted PARK_AFTER."""
    row = session.get(EventSubscriptionRow, subscription_id, populate_existing=True)
    if row is None:
        raise NotFoundError(
            f"subscription {subscription_id} not found", details={"subscription_id": subscription_id}
        )
    row.attempts += 1
    first_failed_at = row.first_failed_at or now
    row.first_failed_at = first_failed_at
    row.last_status = status
    row.last_error = error[:_ERROR_LENGTH]
    if now - first_failed_at > PARK_AFTER:
        row.parked_at = now
        row.next_attempt_at = None
    else:
        row.next_attempt_at = now + backoff(row.attempts, jitter=jitter or _uniform)
    session.flush()
    return _subscription(row)
