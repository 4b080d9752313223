"""Rule runs as jobs: the runner does a queued dry run, and the sweep re-triggers one left queued."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from service.domain.enums import RuleRunKind, RuleRunStatus
from service.flags.dryrun import dry_run_params
from service.jobs.runner import JobRunner
from service.jobs.schedule import SWEEP_AFTER
from service.settings import Settings
from service.store.db import transaction
from service.store.rule_runs import add_rule_run, get_rule_run

RULES = """\
rules:
  - id: anything_open
    applies_to: item
    when: item.status_category != "done"
    severity: info
    message: "{item.key} is open"
"""


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[JobRunner]:
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr(Fernet.generate_key().decode()))
    job_runner = JobRunner(settings, immediate=True)
    yield job_runner
    job_runner.close()


def _queue(runner: JobRunner, *, at: datetime) -> int:
    with transaction(runner.store.sessions) as session:
        run = add_rule_run(
            session,
            kind=RuleRunKind.DRY_RUN,
            params=dry_run_params(RULES, since=timedelta(days=7), requested_at=at),
            now=at,
            max_waiting=10,
        )
    return run.id


def test_runner_does_a_queued_dry_run(runner: JobRunner) -> None:
    run_id = _queue(runner, at=datetime.now(UTC))

    runner.run_rules(run_id)

    with runner.store.sessions() as session:
        run = get_rule_run(session, run_id=run_id)
    assert run.status is RuleRunStatus.SUCCEEDED
    assert run.result == {"hits": []}
    assert run.started_at is not None and run.finished_at is not None


def test_tick_retriggers_a_rule_run_left_queued(runner: JobRunner) -> None:
    now = datetime.now(UTC)
    run_id = _queue(runner, at=now - SWEEP_AFTER - timedelta(minutes=1))

    runner.run_tick(now)

    with runner.store.sessions() as session:
        assert get_rule_run(session, run_id=run_id).status is RuleRunStatus.SUCCEEDED
