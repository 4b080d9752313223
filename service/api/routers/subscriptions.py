"""A client's event subscriptions: push endpoints for the feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from service.api.auth import ClientCaller, require_client
from service.api.routers.context import ObjectId, feed_reader_of
from service.api.schemas.common import CLIENT_ERRORS, CLIENT_OBJECT_ERRORS, error_responses
from service.api.schemas.subscriptions import SubscriptionCreated, SubscriptionIn, SubscriptionOut
from service.app_state import settings_of, store_of
from service.feed.cursor import FeedCursorCodec
from service.netcheck import check_public_url, resolve_host
from service.store.db import reading, transaction
from service.store.subscriptions import (
    CREATED_BY_CLIENT,
    CreatedSubscription,
    Subscription,
    add_subscription,
    disable_subscription,
    list_subscriptions,
)

router = APIRouter(prefix="/v1", tags=["subscriptions"])
Client = Annotated[ClientCaller, Depends(require_client)]


def subscription_out(subscription: Subscription, *, codec: FeedCursorCodec) -> SubscriptionOut:
    cursor = (
        codec.encode(client_id=subscription.client_id, event_id=subscription.last_event_id)
        if subscription.last_event_id
        else None
    )
    return SubscriptionOut(
        id=subscription.id,
        client_id=subscription.client_id,
        url=subscription.url,
        created_by="operator" if subscription.created_by == "operator" else "client",
        created_at=subscription.created_at,
        delivered_cursor=cursor,
        attempts=subscription.attempts,
        next_attempt_at=subscription.next_attempt_at,
        parked_at=subscription.parked_at,
        last_status=subscription.last_status,
        last_error=subscription.last_error,
    )


def subscription_created(created: CreatedSubscription, *, codec: FeedCursorCodec) -> SubscriptionCreated:
    shown = subscription_out(created.subscription, codec=codec)
    return SubscriptionCreated(**shown.model_dump(), secret=created.secret)


def checked_subscription_url(request: Request, url: str) -> str:
    """The URL, or 400 when it is not https or reaches a private address (SSRF)."""
    return check_public_url(
        url,
        allow_private=settings_of(request).allow_private_source_urls,
        field="url",
        resolver=resolve_host,
        allow_query=True,
    )


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionCreated,
    responses={**CLIENT_ERRORS, **error_responses(400, 409, 413)},
    summary="Have every feed event POSTed to a URL",
)
def post_subscription(request: Request, caller: Client, body: SubscriptionIn) -> SubscriptionCreated:
    """Events from now on are POSTed, signed, in feed order, each with its feed cursor; earlier
    ones are in the feed. The response carries the signing secret once."""
    url = checked_subscription_url(request, body.url)
    with transaction(store_of(request).sessions) as session:
        created = add_subscription(
            session,
            cipher=store_of(request).cipher,
            client_id=caller.client_id,
            url=url,
            created_by=CREATED_BY_CLIENT,
            now=datetime.now(UTC),
        )
    return subscription_created(created, codec=feed_reader_of(request).codec)


@router.get(
    "/subscriptions",
    response_model=list[SubscriptionOut],
    responses=CLIENT_ERRORS,
    summary="The caller's subscriptions and how their deliveries fare",
)
def get_subscriptions(request: Request, caller: Client) -> list[SubscriptionOut]:
    codec = feed_reader_of(request).codec
    with reading(store_of(request).sessions) as session:
        found = list_subscriptions(session, client_id=caller.client_id)
    return [subscription_out(s, codec=codec) for s in found]


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    response_class=Response,
    responses=CLIENT_OBJECT_ERRORS,
    summary="Stop a subscription",
)
def delete_subscription(request: Request, caller: Client, subscription_id: ObjectId) -> Response:
    with transaction(store_of(request).sessions) as session:
        disable_subscription(
            session, subscription_id=subscription_id, client_id=caller.client_id, now=datetime.now(UTC)
        )
    return Response(status_code=204)
