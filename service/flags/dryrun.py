"""A dry run over stored history: what a rule set would have flagged, where and when; run at once (the
CLI) or as a queued rule run (the admin API), one at a time per `at_once`, reporting its progress."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from service.domain.work import Activity, Change
from service.flags.rulesets import load_rule_text
from service.logging import get_logger
from service.rules import (
    DryRunHit,
    FactsConfig,
    ItemHistory,
    MilestoneHistory,
    ProjectHistory,
    RuleSet,
    default_rule_set,
    dry_run,
)
from service.store.activity import list_project_activity
from service.store.db import transaction
from service.store.items import list_item_changes, list_project_items, list_project_milestones
from service.store.projects import list_projects
from service.store.rule_runs import (
    Claim,
    claim_rule_run,
    finish_rule_run,
    get_rule_run,
    record_rule_run_progress,
)
from service.store.runtime import Store


def load_histories(store: Store, *, now: datetime) -> list[ProjectHistory]:
    """Every project's items (deleted ones too: they were there in the past) with their changes and
    activity.

    A milestone counts from its first item's creation; one without items from `now`.
    """
    histories = []
    with store.sessions() as session:
        for project in list_projects(session):
            project_id = project.id
            assert project_id is not None
            items = list_project_items(session, project_id=project_id, visible_only=False)
            changes: dict[str, list[Change]] = defaultdict(list)
            for change in list_item_changes(session, item_ids=[i.id for i in items if i.id is not None]):
                changes[change.item_external_id].append(change)
            activity: dict[str, list[Activity]] = defaultdict(list)
            for done in list_project_activity(session, project_id=project_id):
                activity[done.item_external_id].append(done)
            milestones = tuple(
                MilestoneHistory(
                    milestone=m,
                    created_at=min(
                        (i.created_at for i in items if m.external_id in i.milestone_external_ids),
                        default=now,
                    ),
                )
                for m in list_project_milestones(session, project_id=project_id)
            )
            histories.append(
                ProjectHistory(
                    project=project,
                    items=tuple(
                        ItemHistory(
                            item=i,
                            changes=tuple(changes.get(i.external_id, ())),
                            activity=tuple(activity.get(i.external_id, ())),
                        )
                        for i in items
                    ),
                    milestones=milestones,
                    config=FactsConfig(
                        status_categories={i.status.casefold(): i.status_category for i in items}
                    ),
                )
            )
    return histories


def dry_run_stored(
    store: Store, *, rule_set: RuleSet, rule_ids: frozenset[str] | None, since: timedelta, now: datetime
) -> list[DryRunHit]:
    return dry_run(rule_set, load_histories(store, now=now), start=now - since, end=now, rule_ids=rule_ids)


log = get_logger(__name__)

log = get_logger(__name__)

# Progress is written at most this often: a year's replay reports a few dozen times, not 365.
PROGRESS_EVERY_S = 1.0


def hit_json(hit: DryRunHit) -> dict[str, Any]:
    """A hit as the admin API shows it (`DryRunHitOut`)."""
    return {
        "rule": hit.rule_id,
        "subject": hit.subject.kind.value,
        "subject_key": hit.subject.key,
        "first_flagged_at": hit.first_flagged_at.isoformat(),
        "resolved_at": hit.resolved_at.isoformat() if hit.resolved_at is not None else None,
        "days_flagged": hit.instants_flagged,
        "message": hit.first_finding.message,
    }


def dry_run_params(rules: str, *, since: timedelta, requested_at: datetime) -> dict[str, Any]:
    """What a queued dry run keeps of its request: the file, the window, and the instant it ends."""
    return {"rules": rules, "since_s": since.total_seconds(), "until": requested_at.isoformat()}


def run_queued_dry_run(
    store: Store, *, run_id: int, at_once: int, monotonic: Callable[[], float] = time.monotonic
) -> Claim:
    """Claim a queued dry run and do it, recording its progress, then its hits or its error.

    Returns `Claim.BUSY` when `at_once` runs are running already (the caller tries again later) and
    `Claim.GONE` when the run is not queued (done, or running elsewhere).
    """
    with transaction(store.sessions) as session:
        claim = claim_rule_run(session, run_id=run_id, now=datetime.now(UTC), at_once=at_once)
        run = get_rule_run(session, run_id=run_id) if claim is Claim.CLAIMED else None
    if run is None:
        return claim
    last_written = monotonic()

    def report(done: int, total: int) -> None:
        nonlocal last_written
        if monotonic() - last_written < PROGRESS_EVERY_S:
            return
        last_written = monotonic()
        with transaction(store.sessions) as session:
            record_rule_run_progress(session, run_id=run_id, progress=round(done / total, 4))

    try:
        layer = load_rule_text(run.params["rules"], source_name="rules")
        rule_ids = frozenset([r.id for r in layer.custom_rules] + list(layer.builtin_overrides)) or None
        until = datetime.fromisoformat(run.params["until"])
        hits = dry_run(
            default_rule_set().override(layer),
            load_histories(store, now=until),
            start=until - timedelta(seconds=run.params["since_s"]),
            end=until,
            rule_ids=rule_ids,
            progress=report,
        )
    except Exception as exc:
        # The run's row says why it stopped; a retry of the job would only find it finished.
        error = f"{type(exc).__name__}: {exc}"
        log.warning("flags.rule_run.failed", run_id=run_id, error=error)
        with transaction(store.sessions) as session:
            finish_rule_run(session, run_id=run_id, now=datetime.now(UTC), result=None, error=error)
        return Claim.CLAIMED
    result = {"hits": [hit_json(h) for h in hits]}
    with transaction(store.sessions) as session:
        finish_rule_run(session, run_id=run_id, now=datetime.now(UTC), result=result, error=None)
    return Claim.CLAIMED
