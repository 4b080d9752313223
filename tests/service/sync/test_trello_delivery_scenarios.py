"""Stored Trello deliveries replayed by scenario: what is applied, ignored or parked as a dead letter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.domain.enums import InboxStatus, ItemKind, SourceKind, StatusCategory
from service.domain.work import Project, WorkItem
from service.store.db import transaction
from service.store.items import upsert_work_items
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.store.sources import update_source_settings
from service.sync.deliveries import process_delivery_now
from tests.support.inbox import inbox_row, store_body
from tests.support.sources import add_test_source
from tests.support.trello_sandbox import visibility_of

FIXTURES = Path(__file__).resolve().parents[2] / "connectors" / "trello" / "fixtures" / "webhooks"
BOARD_ID = "60a1b2c3d4e5f60718293a4b"
CARD_ID = "65a7d0aa1f2e3d4c5b6a7980"
# Nothing listens here: a scenario that needed the API would fail loudly instead of passing.
UNREACHABLE = "http://127.0.0.1:9"
MALFORMED = json.dumps(
    {"action": {"id": "65a7d90e00000000000000ff", "type": "updateCard", "date": "yesterday", "data": {}}}
).encode()


def add_source(store: Store, *, board_id: str) -> int:
    source_id = add_test_source(
        store,
        kind=SourceKind.TRELLO,
        name="fixtures",
        webhook_secret="s",
        base_url=UNREACHABLE,
        credentials={"api_key": "k", "token": "t"},
    )
    with transaction(store.sessions) as session:
        upsert_projects(
            session,
            projects=[Project(source_id=source_id, external_id=BOARD_ID, key="aBcD1234", name="Acme")],
        )
        update_source_settings(session, source_id=source_id, settings={"board_ids": [board_id]})
        upsert_work_items(
            session,
            source_id=source_id,
            items=[
                WorkItem(
                    source_id=source_id,
                    project_external_id=BOARD_ID,
                    external_id=CARD_ID,
                    key="aBcD1234-42",
                    title="Launch landing page",
                    kind=ItemKind.CARD,
                    status="Doing",
                    status_category=StatusCategory.IN_PROGRESS,
                    created_at=datetime(2024, 1, 17, tzinfo=UTC),
                    updated_at=datetime(2024, 1, 17, tzinfo=UTC),
                )
            ],
        )
    return source_id


@pytest.mark.parametrize(
    ("body", "board_id", "expected"),
    [
        ((FIXTURES / "comment_added.json").read_bytes(), BOARD_ID, InboxStatus.PROCESSED),
        ((FIXTURES / "unknown_action.json").read_bytes(), BOARD_ID, InboxStatus.IGNORED),
        ((FIXTURES / "card_moved_list.json").read_bytes(), "0" * 24, InboxStatus.IGNORED),
        ((FIXTURES / "card_deleted.json").read_bytes(), BOARD_ID, InboxStatus.PROCESSED),
        (MALFORMED, BOARD_ID, InboxStatus.DEAD),
        (b'{"model": {}}', BOARD_ID, InboxStatus.DEAD),
    ],
    ids=[
        "comment-added",
        "unknown-action",
        "board-not-synced",
        "card-deleted",
        "malformed-card-action",
        "no-action",
    ],
)
def test_process_trello_delivery_scenario(
    store: Store, body: bytes, board_id: str, expected: InboxStatus
) -> None:
    source_id = add_source(store, board_id=board_id)
    inbox_id = store_body(store, source_id, body, "fixture")

    status = process_delivery_now(store, inbox_id=inbox_id)

    assert status is expected
    row = inbox_row(store, inbox_id)
    assert (row.status, row.attempts) == (expected.value, 1)
    assert (row.last_error is not None) == (expected is InboxStatus.DEAD)


def test_card_deleted_delivery_marks_the_card_deleted(store: Store) -> None:
    source_id = add_source(store, board_id=BOARD_ID)
    inbox_id = store_body(store, source_id, (FIXTURES / "card_deleted.json").read_bytes(), "d")

    process_delivery_now(store, inbox_id=inbox_id)

    assert visibility_of(store, source_id, CARD_ID) == "deleted"
