"""Evaluating every project of a source (after a sync) or of all sources (on the schedule: time
alone makes items overdue or stale)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from service.domain.signals import Flag
from service.flags.evaluate import EvaluationSummary, evaluate_project
from service.flags.push_queue import queue_flag_push
from service.flags.rulesets import rule_set_for
from service.logging import get_logger
from service.metrics import record_evaluation
from service.store.db import Session
from service.store.feed_writes import list_client_names_of_project
from service.store.projects import list_projects
from service.store.runtime import Store

log = get_logger(__name__)


def _queue_push(session: Session, flag: Flag, now: datetime) -> None:
    queue_flag_push(session, flag=flag, now=now)


def evaluate_projects(
    store: Store,
    *,
    now: datetime,
    rules_dir: Path | None,
    source_id: int | None = None,
    project_ids: Collection[int] | None = None,
) -> list[EvaluationSummary]:
    """Evaluate the projects of one source, or of every source when `source_id` is None; only
    `project_ids` among them when given (those a webhook change touched).

    Every flag that opens, changes or resolves queues its comment for the push-back, in the same
    transaction; projects that have not opted in queue nothing.
    """
    with store.sessions() as session:
        projects = [
            (project.id, project.key, list_client_names_of_project(session, project_id=project.id))
            for project in list_projects(session, source_id=source_id, project_ids=project_ids)
            if project.id is not None
        ]
    summaries = []
    for project_id, key, clients in projects:
        rule_set = rule_set_for(rules_dir, project_key=key, client_names=clients)
        summary = evaluate_project(
            store, project_id=project_id, rule_set=rule_set, now=now, on_flag_changed=_queue_push
        )
        log.info(
            "flags.project.evaluated",
            project=key,
            **{k: v for k, v in summary.to_json().items() if k != "failures"},
        )
        record_evaluation(
            subjects=summary.subjects,
            findings=summary.findings,
            failures=len(summary.failures),
            opened=summary.opened,
            updated=summary.updated,
            resolved=summary.resolved,
        )
        summaries.append(summary)
    return summaries
