"""Stored deliveries replayed by scenario: what is applied, ignored or parked as a dead letter."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from service.domain.enums import InboxStatus, MilestoneKind, SourceKind
from service.domain.work import Project
from service.store.db import transaction
from service.store.orm import MilestoneRow
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.sync.deliveries import process_delivery_now
from tests.support.inbox import inbox_row, store_body
from tests.support.sources import add_test_source

FIXTURES = Path(__file__).resolve().parents[2] / "connectors" / "jira" / "fixtures" / "webhooks"
# Nothing listens here: a scenario that needed the API would fail loudly instead of passing.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def source_id(store: Store) -> int:
    source_id = add_test_source(
        store, kind=SourceKind.JIRA_CLOUD, name="fixtures", webhook_secret="s", base_url=UNREACHABLE
    )
    with transaction(store.sessions) as session:
        upsert_projects(
            session, projects=[Project(source_id=source_id, external_id="10000", key="ACME", name="Acme")]
        )
    return source_id


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("comment_created", InboxStatus.IGNORED),
        ("comment_deleted", InboxStatus.IGNORED),
        ("unknown_event", InboxStatus.IGNORED),
        ("sprint_started", InboxStatus.IGNORED),
        ("version_released", InboxStatus.PROCESSED),
        ("issue_updated_missing_issue", InboxStatus.DEAD),
    ],
    ids=[
        "comment-created",
        "comment-deleted",
        "unknown-event",
        "sprint-started",
        "version-released",
        "malformed-known-event",
    ],
)
def test_process_delivery_scenario(store: Store, source_id: int, fixture: str, expected: InboxStatus) -> None:
    inbox_id = store_body(store, source_id, (FIXTURES / f"{fixture}.json").read_bytes(), fixture)

    status = process_delivery_now(store, inbox_id=inbox_id)

    assert status is expected
    row = inbox_row(store, inbox_id)
    assert (row.status, row.attempts) == (expected.value, 1)
    assert (row.last_error is not None) == (expected is InboxStatus.DEAD)


def test_version_released_updates_the_milestone(store: Store, source_id: int) -> None:
    inbox_id = store_body(store, source_id, (FIXTURES / "version_released.json").read_bytes(), "v")

    process_delivery_now(store, inbox_id=inbox_id)

    with store.sessions() as session:
        milestone = session.scalars(select(MilestoneRow)).one()
    assert (milestone.kind, milestone.name, milestone.released) == (
        MilestoneKind.VERSION.value,
        "2026.06",
        True,
    )


def test_processed_delivery_is_not_processed_again(store: Store, source_id: int) -> None:
    inbox_id = store_body(store, source_id, (FIXTURES / "comment_created.json").read_bytes(), "c")
    process_delivery_now(store, inbox_id=inbox_id)

    again = process_delivery_now(store, inbox_id=inbox_id)

    assert again is InboxStatus.IGNORED
    assert inbox_row(store, inbox_id).attempts == 1
