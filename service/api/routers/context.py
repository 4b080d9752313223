"""What the API's routes take from the running app (its caches, queue and webhook intake; the store and
settings through `service.app_state`, the authenticator through `service.api.auth`), and path
parameters' bounds."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from service.api.schemas.common import FreshnessOut, SourceFreshnessOut
from service.feed.paging import FeedReader
from service.feed.snapshots import ClientSnapshot, ClientSnapshots
from service.queue import Enqueuer
from service.webhooks.intake import WebhookIntake
from service.webhooks.trigger import DeliveryTrigger

# Ids are 64-bit in the database; the API caps them at 2**53 - 1, which every JSON client (and a
# double) represents exactly, so an id past it is a 422, never an overflow in the driver.
MAX_ID = 2**53 - 1
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]


def snapshots_of(request: Request) -> ClientSnapshots:
    snapshots: ClientSnapshots = request.app.state.client_snapshots
    return snapshots


def feed_reader_of(request: Request) -> FeedReader:
    reader: FeedReader = request.app.state.feed_reader
    return reader


def enqueuer_of(request: Request) -> Enqueuer:
    enqueuer: Enqueuer = request.app.state.enqueuer
    return enqueuer


def webhook_intake_of(request: Request) -> WebhookIntake:
    intake: WebhookIntake = request.app.state.webhook_intake
    return intake


def delivery_trigger_of(request: Request) -> DeliveryTrigger:
    trigger: DeliveryTrigger = request.app.state.delivery_trigger
    return trigger


def freshness_out(snapshot: ClientSnapshot) -> FreshnessOut:
    sources = [
        SourceFreshnessOut(
            source_id=s.source_id,
            name=s.name,
            kind=s.kind,
            last_synced_at=s.last_synced_at,
            last_census_at=s.last_census_at,
            census_complete=s.census_complete,
        )
        for s in snapshot.freshness
    ]
    return FreshnessOut(sources=sources, census_complete=all(s.census_complete for s in sources))
