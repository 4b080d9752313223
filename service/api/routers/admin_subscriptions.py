"""Admin routes for event subscriptions: all of them with their delivery state, one added for a
client, and a parked one retried."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from service.api.auth import Caller, require_admin
from service.api.routers.context import MAX_ID, ObjectId, feed_reader_of
from service.api.routers.subscriptions import checked_subscription_url, subscription_created, subscription_out
from service.api.schemas.common import ADMIN_ERRORS
from service.api.schemas.subscriptions import SubscriptionCreated, SubscriptionIn, SubscriptionOut
from service.app_state import store_of
from service.store.db import reading, transaction
from service.store.subscriptions import (
    CREATED_BY_OPERATOR,
    add_subscription,
    list_subscriptions,
    unpark_subscription,
)

router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_ERRORS)
Admin = Annotated[Caller, Depends(require_admin)]


@router.get("/subscriptions", response_model=list[SubscriptionOut], summary="List event subscriptions")
def get_subscriptions(
    request: Request,
    _admin: Admin,
    client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    parked: Annotated[bool, Query(description="Only those parked after a day of failures.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SubscriptionOut]:
    codec = feed_reader_of(request).codec
    with reading(store_of(request).sessions) as session:
        found = list_subscriptions(session, client_id=client_id, parked_only=parked, limit=limit)
    return [subscription_out(s, codec=codec) for s in found]


@router.post(
    "/clients/{client_id}/subscriptions",
    status_code=201,
    response_model=SubscriptionCreated,
    summary="Subscribe a URL to a client's events",
)
def post_subscription(
    request: Request, _admin: Admin, client_id: ObjectId, body: SubscriptionIn
) -> SubscriptionCreated:
    """The response carries the signing secret once, for the operator to hand to the client."""
    url = checked_subscription_url(request, body.url)
    with transaction(store_of(request).sessions) as session:
        created = add_subscription(
            session,
            cipher=store_of(request).cipher,
            client_id=client_id,
            url=url,
            created_by=CREATED_BY_OPERATOR,
            now=datetime.now(UTC),
        )
    return subscription_created(created, codec=feed_reader_of(request).codec)


@router.post(
    "/subscriptions/{subscription_id}/retry",
    response_model=SubscriptionOut,
    summary="Retry a parked subscription",
)
def post_retry(request: Request, _admin: Admin, subscription_id: ObjectId) -> SubscriptionOut:
    """Deliveries resume from the first undelivered event at the next drain (within a minute)."""
    with transaction(store_of(request).sessions) as session:
        subscription = unpark_subscription(session, subscription_id=subscription_id, now=datetime.now(UTC))
    return subscription_out(subscription, codec=feed_reader_of(request).codec)
