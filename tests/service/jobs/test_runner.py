"""The job runner in huey's immediate mode: the tick triggers due syncs and re-triggers stranded
deliveries, and tasks work from the rows (ids only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from service.domain.enums import SourceKind
from service.jobs.runner import JobRunner
from service.settings import Settings
from service.store.db import transaction
from service.store.inbox import add_delivery
from service.store.orm import CommitmentRow, InboxRow, SyncRunRow, WorkItemRow
from service.store.runtime import Store
from tests.support.inbox import inbox_row, store_body
from tests.support.jira_sandbox import JiraSandbox, local_snapshot, serve_jira_sandbox
from tests.support.sources import add_test_source


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[JobRunner]:
    # The daily census is set half a day away, so a tick at the top of its hour never adds a sync.
    settings = Settings(
        data_dir=tmp_path,
        secret_key=SecretStr(Fernet.generate_key().decode()),
        census_hour_utc=(datetime.now(UTC).hour + 12) % 24,
    )
    job_runner = JobRunner(settings, immediate=True)
    yield job_runner
    job_runner.close()


@pytest.fixture
def jira_sandbox() -> Iterator[JiraSandbox]:
    with serve_jira_sandbox("tiny", seed=5) as sandbox:
        yield sandbox


def add_sandbox_source(store: Store, jira_sandbox: JiraSandbox) -> int:
    sandbox = jira_sandbox.sandbox
    return add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="sandbox",
        webhook_secret=sandbox.jira_webhook_secret,
        base_url=jira_sandbox.base_url,
        credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
    )


def test_tick_syncs_a_source_never_synced(runner: JobRunner, jira_sandbox: JiraSandbox) -> None:
    source_id = add_sandbox_source(runner.store, jira_sandbox)

    runner.run_tick(datetime.now(UTC))

    assert local_snapshot(runner.store, source_id) == jira_sandbox.snapshot()


def test_tick_skips_a_source_synced_within_the_interval(runner: JobRunner, jira_sandbox: JiraSandbox) -> None:
    add_sandbox_source(runner.store, jira_sandbox)
    runner.run_tick(datetime.now(UTC))

    runner.run_tick(datetime.now(UTC) + timedelta(minutes=1))

    with runner.store.sessions() as session:
        assert len(list(session.scalars(select(SyncRunRow.id)))) == 1


def test_tick_retriggers_a_delivery_left_pending(runner: JobRunner, jira_sandbox: JiraSandbox) -> None:
    source_id = add_sandbox_source(runner.store, jira_sandbox)
    body = json.dumps(
        {"webhookEvent": "comment_created", "comment": {"id": "1"}, "issue": {"id": "1", "key": "X-1"}}
    )
    with transaction(runner.store.sessions) as session:
        inbox_id = add_delivery(
            session,
            source_id=source_id,
            delivery_id="lost-job",
            event_type="comment_created",
            body=body.encode(),
            received_at=datetime.now(UTC) - timedelta(minutes=10),
        )

    runner.run_tick(datetime.now(UTC))

    with runner.store.sessions() as session:
        row = session.get(InboxRow, inbox_id)
        assert row is not None and row.status != "pending"


def test_a_batch_of_deliveries_is_applied_and_evaluated_at_once(
    runner: JobRunner, jira_sandbox: JiraSandbox
) -> None:
    source_id = add_sandbox_source(runner.store, jira_sandbox)
    runner.run_tick(datetime.now(UTC))  # the initial sync, then its evaluation
    jira_sandbox.control(
        "POST", "/jira/webhooks", {"url": f"http://pmbridge.invalid/webhooks/jira/{source_id}"}
    )
    key = next(iter(jira_sandbox.snapshot().values()))[0]
    jira_sandbox.sink.deliveries.clear()
    jira_sandbox.control("POST", f"/jira/issues/{key}/duedate", {"duedate": "2027-03-04"})
    ids = [
        store_body(runner.store, source_id, delivery.body, f"batch-{n}")
        for n, delivery in enumerate(jira_sandbox.sink.deliveries)
    ]
    assert ids

    runner.process_deliveries(ids)

    assert {inbox_row(runner.store, inbox_id).status for inbox_id in ids} == {"processed"}
    with runner.store.sessions() as session:
        item_id = session.scalars(select(WorkItemRow.id).where(WorkItemRow.key == key)).one()
        moved = session.scalars(
            select(CommitmentRow.current_date).where(
                CommitmentRow.subject == "item", CommitmentRow.subject_id == item_id
            )
        ).all()
    assert moved == [date(2027, 3, 4)]  # the promise ledger moved without waiting for the beat


def test_a_delivery_that_fails_in_a_batch_is_retried_on_its_own(runner: JobRunner) -> None:
    unreachable = add_test_source(
        runner.store,
        kind=SourceKind.JIRA_CLOUD,
        name="unreachable",
        webhook_secret="s",
        base_url="http://127.0.0.1:1",
        credentials={"email": "a@b.c", "api_token": "t"},
    )
    partial = json.dumps(
        {
            "webhookEvent": "jira:issue_updated",
            "timestamp": 1764158400000,
            "issue": {"id": "10001", "key": "X-1"},
        }
    ).encode()
    ignored = json.dumps({"webhookEvent": "board_created", "board": {"id": 1}}).encode()
    failing = store_body(runner.store, unreachable, partial, "needs-a-fetch")
    fine = store_body(runner.store, unreachable, ignored, "nothing-to-fetch")

    runner.process_deliveries([failing, fine])

    assert inbox_row(runner.store, fine).status == "ignored"
    retried = inbox_row(runner.store, failing)
    assert (retried.status, retried.attempts) == ("pending", 1)
    assert retried.last_error is not None and "connection failed" in retried.last_error
    assert runner.huey.scheduled_count() == 1


def test_the_embedded_queue_syncs_like_the_database_not_on_every_job(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr(Fernet.generate_key().decode()))
    queued = JobRunner(settings)
    try:
        with queued.huey.storage.db() as cursor:
            synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
            journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        queued.close()

    assert (synchronous, journal) == (1, "wal")  # NORMAL: one sync per checkpoint, not per job
