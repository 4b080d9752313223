"""The job runner in huey's immediate mode: the tick triggers due syncs and re-triggers stranded
deliveries, and tasks work from the rows (ids only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from service.store.orm import InboxRow, SyncRunRow
from service.store.runtime import Store
from tests.support.jira_sandbox import JiraSandbox, local_snapshot, serve_jira_sandbox
from tests.support.sources import add_test_source


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[JobRunner]:
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr(Fernet.generate_key().decode()))
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
