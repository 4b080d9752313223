"""Jobs are observed: each run is timed and counted by task, and its log lines carry the job's id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from cryptography.fernet import Fernet
from pydantic import SecretStr

from service.domain.enums import SourceKind
from service.jobs.runner import JobRunner
from service.metrics import REGISTRY
from service.settings import Settings
from service.store.db import transaction
from service.store.inbox import add_delivery
from tests.support.sources import add_test_source

COMMENT_CREATED = json.dumps(
    {"webhookEvent": "comment_created", "comment": {"id": "1"}, "issue": {"id": "1", "key": "X-1"}}
).encode()


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[JobRunner]:
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr(Fernet.generate_key().decode()))
    job_runner = JobRunner(settings, immediate=True)
    yield job_runner
    job_runner.close()


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_job_run_is_counted_and_timed_by_task(runner: JobRunner) -> None:
    succeeded = {"task": "process_delivery", "outcome": "succeeded"}
    before = sample("pmbridge_jobs_total", succeeded)
    timed = sample("pmbridge_job_duration_seconds_count", {"task": "process_delivery"})

    runner.process_delivery(404)  # no such row: the job finds nothing to do and succeeds

    assert sample("pmbridge_jobs_total", succeeded) - before == 1
    assert sample("pmbridge_job_duration_seconds_count", {"task": "process_delivery"}) - timed == 1


def test_job_that_raises_is_counted_as_failed(runner: JobRunner) -> None:
    failed = {"task": "sync_source", "outcome": "failed"}
    before = sample("pmbridge_jobs_total", failed)

    runner.sync_source(404)  # no such source: the job raises NotFoundError

    assert sample("pmbridge_jobs_total", failed) - before == 1


def test_job_log_lines_carry_the_job_id(runner: JobRunner) -> None:
    source_id = add_test_source(runner.store, kind=SourceKind.JIRA_CLOUD, name="jobs", webhook_secret="s")
    with transaction(runner.store.sessions) as session:
        inbox_id = add_delivery(
            session,
            source_id=source_id,
            delivery_id="logged",
            event_type="comment_created",
            body=COMMENT_CREATED,
            received_at=datetime.now(UTC),
        )

    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        runner.process_delivery(inbox_id)

    processed = [line for line in logs if line["event"] == "webhook.delivery.processed"]
    assert len(processed) == 1
    assert processed[0]["job"] == "process_delivery"
    assert isinstance(processed[0]["job_id"], str) and processed[0]["job_id"]


def test_job_context_is_unbound_after_the_job(runner: JobRunner) -> None:
    runner.process_delivery(404)

    assert "job_id" not in structlog.contextvars.get_contextvars()
