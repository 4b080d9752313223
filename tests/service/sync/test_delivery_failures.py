"""A delivery whose processing keeps failing is an attempt each time, with its error, retried after
a backoff and then a dead letter: never pending forever (on PostgreSQL, which refuses NUL bytes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.domain.enums import InboxStatus, SourceKind
from service.domain.work import Project
from service.store.db import transaction
from service.store.inbox import list_pending_deliveries
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.sync.deliveries import MAX_DELIVERY_ATTEMPTS, apply_delivery_now
from tests.support.inbox import inbox_row, store_body
from tests.support.sources import add_test_source

FIXTURE = Path(__file__).resolve().parents[2] / "connectors" / "jira" / "fixtures" / "webhooks"
UNREACHABLE = "http://127.0.0.1:9"

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True, ids=["postgresql"])


@pytest.fixture
def store(dialect_store: Store) -> Store:
    return dialect_store


def _poison_delivery(store: Store) -> int:
    source_id = add_test_source(
        store, kind=SourceKind.JIRA_CLOUD, name="fixtures", webhook_secret="s", base_url=UNREACHABLE
    )
    with transaction(store.sessions) as session:
        upsert_projects(
            session, projects=[Project(source_id=source_id, external_id="10000", key="ACME", name="A")]
        )
    payload = json.loads((FIXTURE / "issue_updated_duedate.json").read_bytes())
    payload["issue"]["fields"]["summary"] = "Checkout \u0000 page"
    return store_body(store, source_id, json.dumps(payload).encode(), "poison")


def test_delivery_the_database_refuses_is_retried_with_backoff_then_dead_lettered(store: Store) -> None:
    inbox_id = _poison_delivery(store)

    for attempt in range(1, MAX_DELIVERY_ATTEMPTS):
        before = datetime.now(UTC)
        with pytest.raises(Exception) as raised:
            apply_delivery_now(store, inbox_id=inbox_id)
        row = inbox_row(store, inbox_id)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.last_error is not None
        assert row.last_error.startswith(f"{type(raised.value).__name__}: ")
        assert type(raised.value).__name__ == "DataError"  # PostgreSQL refuses the NUL byte
        assert row.next_attempt_at is not None
        assert row.next_attempt_at >= before + timedelta(seconds=30 * 2 ** (attempt - 1))
        with store.sessions() as session:
            due_now = list_pending_deliveries(session, received_before=row.next_attempt_at, now=before)
            due_later = list_pending_deliveries(
                session, received_before=row.next_attempt_at, now=row.next_attempt_at
            )
        assert (due_now, due_later) == ([], [inbox_id])

    result = apply_delivery_now(store, inbox_id=inbox_id)

    assert result.status is InboxStatus.DEAD
    row = inbox_row(store, inbox_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", MAX_DELIVERY_ATTEMPTS, None)
