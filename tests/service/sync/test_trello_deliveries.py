"""Trello webhook deliveries made by the sandbox, received by the API and processed from the inbox.

Duplicates, reordering and retries must end in the same state as one ordered delivery.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sandbox.emit import OutgoingWebhook
from sandbox.trello.models import Webhook
from service.domain.enums import InboxStatus
from service.store.orm import ChangeRow, InboxRow
from service.store.runtime import Store
from service.sync.deliveries import process_delivery_now
from service.sync.runs import sync_source_now
from tests.support.trello_sandbox import TrelloSandbox, local_snapshot, serve_trello_sandbox, visibility_of

PUBLIC_URL = "http://pmbridge.invalid"


@pytest.fixture
def trello_sandbox() -> Iterator[TrelloSandbox]:
    with serve_trello_sandbox("tiny", seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def app_public_url() -> str | None:
    return PUBLIC_URL


@pytest.fixture
def synced_source(app_store: Store, trello_sandbox: TrelloSandbox) -> int:
    source_id = trello_sandbox.add_source(app_store)
    sync_source_now(app_store, source_id=source_id, full=True)
    world = trello_sandbox.world
    with world.lock:
        for board_id in world.boards:
            hook = Webhook(
                world.new_id(),
                trello_sandbox.sandbox.trello_token,
                board_id,
                f"{PUBLIC_URL}/webhooks/trello/{source_id}",
            )
            world.webhooks[hook.id] = hook
    return source_id


def deliver(client: TestClient, delivery: OutgoingWebhook) -> int:
    path = "/" + delivery.url.split("/", 3)[3]
    response = client.post(path, content=delivery.body, headers=delivery.headers)
    assert response.status_code in (200, 202), response.text
    return response.status_code


def process_all(store: Store) -> list[InboxStatus]:
    with store.sessions() as session:
        ids = list(
            session.scalars(select(InboxRow.id).where(InboxRow.status == "pending").order_by(InboxRow.id))
        )
    return [process_delivery_now(store, inbox_id=inbox_id) for inbox_id in ids]


def change_count(store: Store) -> int:
    with store.sessions() as session:
        return len(list(session.scalars(select(ChangeRow.id))))


def mutate(trello_sandbox: TrelloSandbox, card_ids: list[str]) -> None:
    world = trello_sandbox.world
    for n, card_id in enumerate(card_ids):
        done = trello_sandbox.first_open_list(world.cards[card_id].id_board, name="Done")
        trello_sandbox.control("POST", "/clock/advance", {"seconds": 30})
        trello_sandbox.control(
            "POST", f"/trello/cards/{card_id}/due", {"due": f"2027-05-{n + 1:02d}T12:00:00Z"}
        )
        trello_sandbox.control("POST", "/clock/advance", {"seconds": 30})
        trello_sandbox.control("POST", f"/trello/cards/{card_id}/move", {"idList": done})
        trello_sandbox.control("POST", f"/trello/cards/{card_id}/comments", {"text": "moved"})


def test_deliveries_in_order_reach_the_remote_state(
    app_client: TestClient, app_store: Store, trello_sandbox: TrelloSandbox, synced_source: int
) -> None:
    cards = trello_sandbox.card_ids(where=lambda card: not card.closed)[:4]
    before = change_count(app_store)
    trello_sandbox.sink.deliveries.clear()
    mutate(trello_sandbox, cards)

    for delivery in trello_sandbox.sink.deliveries:
        deliver(app_client, delivery)
    statuses = process_all(app_store)

    # Comments too: they are the cards' activity.
    assert statuses == [InboxStatus.PROCESSED] * 12
    assert local_snapshot(app_store, synced_source) == trello_sandbox.snapshot()
    assert change_count(app_store) == before + 8


def test_duplicated_and_reordered_deliveries_end_in_the_same_state(
    app_client: TestClient, app_store: Store, trello_sandbox: TrelloSandbox, synced_source: int
) -> None:
    cards = trello_sandbox.card_ids(where=lambda card: not card.closed)[:4]
    before = change_count(app_store)
    trello_sandbox.sink.deliveries.clear()
    mutate(trello_sandbox, cards)
    deliveries = list(trello_sandbox.sink.deliveries) * 2
    random.Random(3).shuffle(deliveries)

    codes = [deliver(app_client, delivery) for delivery in deliveries]
    process_all(app_store)

    assert codes.count(202) == len(deliveries) // 2
    assert local_snapshot(app_store, synced_source) == trello_sandbox.snapshot()
    assert change_count(app_store) == before + 8


def test_delete_delivered_before_an_older_update_stays_deleted(
    app_client: TestClient, app_store: Store, trello_sandbox: TrelloSandbox, synced_source: int
) -> None:
    card_id = trello_sandbox.card_ids(where=lambda card: not card.closed)[0]
    trello_sandbox.sink.deliveries.clear()
    trello_sandbox.control("POST", "/clock/advance", {"seconds": 30})
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/due", {"due": "2027-06-01T12:00:00Z"})
    trello_sandbox.control("POST", "/clock/advance", {"seconds": 30})
    trello_sandbox.control("DELETE", f"/trello/cards/{card_id}")

    for delivery in reversed(trello_sandbox.sink.deliveries):
        deliver(app_client, delivery)
        process_all(app_store)

    assert visibility_of(app_store, synced_source, card_id) == "deleted"
    assert local_snapshot(app_store, synced_source) == trello_sandbox.snapshot()


def test_deliveries_never_move_the_sync_cursor(
    app_client: TestClient, app_store: Store, trello_sandbox: TrelloSandbox, synced_source: int
) -> None:
    cards = trello_sandbox.card_ids(where=lambda card: not card.closed)[:2]
    trello_sandbox.sink.deliveries.clear()
    mutate(trello_sandbox, cards)
    for delivery in trello_sandbox.sink.deliveries:
        deliver(app_client, delivery)
    process_all(app_store)

    summary = sync_source_now(app_store, source_id=synced_source, full=False)

    # The poll still reads the actions the webhooks brought; replaying them changes nothing.
    assert summary.changes_added == 0
    assert summary.items_changed == 0
    assert local_snapshot(app_store, synced_source) == trello_sandbox.snapshot()
