"""Jira webhook deliveries made by the sandbox, received by the API and processed from the inbox.

Duplicates, reordering and retries must end in the same state as one ordered delivery.
"""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sandbox.emit import OutgoingWebhook
from service.domain.enums import InboxStatus, SourceKind
from service.store.orm import InboxRow, WorkItemRow
from service.store.runtime import Store
from service.sync.deliveries import process_delivery_now
from service.sync.runs import sync_source_now
from tests.support.jira_sandbox import JiraSandbox, local_snapshot
from tests.support.sources import add_test_source


@pytest.fixture
def synced_source(app_store: Store, jira_sandbox: JiraSandbox) -> int:
    sandbox = jira_sandbox.sandbox
    source_id = add_test_source(
        app_store,
        kind=SourceKind.JIRA_CLOUD,
        name="sandbox-jira",
        webhook_secret=sandbox.jira_webhook_secret,
        base_url=jira_sandbox.base_url,
        credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
    )
    sync_source_now(app_store, source_id=source_id, full=True)
    jira_sandbox.control(
        "POST", "/jira/webhooks", {"url": f"http://pmbridge.invalid/webhooks/jira/{source_id}"}
    )
    return source_id


def deliver(client: TestClient, delivery: OutgoingWebhook) -> int:
    path = "/" + delivery.url.split("/", 3)[3]
    response = client.post(
        path, content=delivery.body, headers={**delivery.headers, **delivery.retry_headers}
    )
    assert response.status_code in (200, 202), response.text
    return response.status_code


def process_all(store: Store) -> list[InboxStatus]:
    with store.sessions() as session:
        ids = list(
            session.scalars(select(InboxRow.id).where(InboxRow.status == "pending").order_by(InboxRow.id))
        )
    return [process_delivery_now(store, inbox_id=inbox_id) for inbox_id in ids]


def mutate(jira_sandbox: JiraSandbox, keys: list[str]) -> None:
    for n, key in enumerate(keys):
        jira_sandbox.control("POST", "/clock/advance", {"seconds": 30})
        jira_sandbox.control("POST", f"/jira/issues/{key}/duedate", {"duedate": f"2027-05-{n + 1:02d}"})
        jira_sandbox.control("POST", "/clock/advance", {"seconds": 30})
        jira_sandbox.control("POST", f"/jira/issues/{key}/assignee", {"assignee": None})


def test_deliveries_in_order_reach_the_remote_state(
    app_client: TestClient, app_store: Store, jira_sandbox: JiraSandbox, synced_source: int
) -> None:
    keys = [key for key, *_ in list(jira_sandbox.snapshot().values())[:4]]
    jira_sandbox.sink.deliveries.clear()
    mutate(jira_sandbox, keys)

    for delivery in jira_sandbox.sink.deliveries:
        deliver(app_client, delivery)
    statuses = process_all(app_store)

    assert statuses and set(statuses) <= {InboxStatus.PROCESSED, InboxStatus.IGNORED}
    assert local_snapshot(app_store, synced_source) == jira_sandbox.snapshot()


def test_duplicated_and_reordered_deliveries_end_in_the_same_state(
    app_client: TestClient, app_store: Store, jira_sandbox: JiraSandbox, synced_source: int
) -> None:
    keys = [key for key, *_ in list(jira_sandbox.snapshot().values())[:4]]
    jira_sandbox.sink.deliveries.clear()
    mutate(jira_sandbox, keys)
    deliveries = list(jira_sandbox.sink.deliveries) * 2
    random.Random(3).shuffle(deliveries)

    codes = [deliver(app_client, delivery) for delivery in deliveries]
    process_all(app_store)

    assert codes.count(202) == len(deliveries) // 2
    assert local_snapshot(app_store, synced_source) == jira_sandbox.snapshot()


def test_delete_delivered_before_an_older_update_stays_deleted(
    app_client: TestClient, app_store: Store, jira_sandbox: JiraSandbox, synced_source: int
) -> None:
    key = next(key for key, *_ in jira_sandbox.snapshot().values())
    jira_sandbox.sink.deliveries.clear()
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 30})
    jira_sandbox.control("POST", f"/jira/issues/{key}/duedate", {"duedate": "2027-06-01"})
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 30})
    jira_sandbox.control("DELETE", f"/jira/issues/{key}")

    for delivery in reversed(jira_sandbox.sink.deliveries):
        deliver(app_client, delivery)
        process_all(app_store)

    with app_store.sessions() as session:
        visibility = session.scalars(select(WorkItemRow.visibility).where(WorkItemRow.key == key)).one()
    assert visibility == "deleted"
    assert local_snapshot(app_store, synced_source) == jira_sandbox.snapshot()
