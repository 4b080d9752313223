"""A rules reload with the job runner itself (huey's immediate mode): `reload_rules` queues
`evaluate_all`, which the runner executes, so a rule added to a file flags every project at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from service.flags.rule_catalog import reload_rules
from service.jobs.runner import JobRunner
from service.settings import Settings
from service.store.db import reading, transaction
from service.store.orm import FlagRow
from tests.support.flags import add_item, add_project, add_source_row
from tests.support.rule_files import write_rule_files

TASKS_RULE = """\
rules:
  - id: task_seen
    applies_to: item
    when: item.kind == "task"
    severity: info
    message: "{item.key} is a task"
"""


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    return write_rule_files(tmp_path / "rules", {})


@pytest.fixture
def runner(tmp_path: Path, rules_dir: Path) -> Iterator[JobRunner]:
    settings = Settings(
        data_dir=tmp_path / "data", secret_key=SecretStr(Fernet.generate_key().decode()), rules_dir=rules_dir
    )
    job_runner = JobRunner(settings, immediate=True)
    yield job_runner
    job_runner.close()


def _flagged(runner: JobRunner) -> dict[int, str]:
    with runner.store.sessions() as session:
        rows = session.execute(select(FlagRow.subject_id, FlagRow.rule_id).where(FlagRow.state == "open"))
        return {subject_id: rule_id for subject_id, rule_id in rows if rule_id == "task_seen"}


def test_a_reload_evaluates_every_project_with_the_files_as_they_are_now(
    runner: JobRunner, rules_dir: Path
) -> None:
    with transaction(runner.store.sessions) as session:
        source_id = add_source_row(session)
        first = add_item(
            session,
            source_id=source_id,
            project_id=add_project(session, source_id=source_id, key="ACM"),
            key="ACM-1",
        )
        second = add_item(
            session,
            source_id=source_id,
            project_id=add_project(session, source_id=source_id, key="BET"),
            key="BET-1",
        )
    assert _flagged(runner) == {}
    write_rule_files(rules_dir, {"default.yaml": TASKS_RULE})

    with reading(runner.store.sessions) as session:
        reload = reload_rules(session, rules_dir=rules_dir, enqueuer=runner)

    assert sorted(p.key for p in reload.projects) == ["ACM", "BET"]
    assert _flagged(runner) == {first: "task_seen", second: "task_seen"}
