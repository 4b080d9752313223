"""A dry run over stored history: what a rule set would have flagged, where and when; run at once (the
CLI) or as a queued rule run (the admin API), one at a time per `at_once`, reporting its progress.
Queued backtests (`service.flags.backtest`) run through the same claim and progress."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from service.domain.work import Activity, Change
from service.flags.rulesets import load_rule_text
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
from service.store.items import (
    list_item_changes,
    list_milestone_changes,
    list_project_items,
    list_project_milestones,
)
from service.store.projects import list_projects
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
            stored_milestones = list_project_milestones(session, project_id=project_id)
            moves: dict[str, list[Change]] = defaultdict(list)
            for move in list_milestone_changes(
                session, milestone_ids=[m.id for m in stored_milestones if m.id is not None]
            ):
                moves[move.item_external_id].append(move)
            milestones = tuple(
                MilestoneHistory(
                    milestone=m,
                    created_at=min(
                        (i.created_at for i in items if m.external_id in i.milestone_external_ids),
                        default=now,
                    ),
                    changes=tuple(moves.get(m.external_id, ())),
                )
                for m in stored_milestones
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
    """The dry run over the window that ends at `now` (the wall clock, or an operator's `--until`)."""
    return dry_run(rule_set, load_histories(store, now=now), start=now - since, end=now, rule_ids=rule_ids)


def dry_run_params(rules: str, *, since: timedelta, requested_at: datetime) -> dict[str, Any]:
    """What a queued dry run keeps of its request: the file, the window, and the instant it ends."""
    return {"rules": rules, "since_s": since.total_seconds(), "until": requested_at.isoformat()}


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


def run_dry_run(
    store: Store, params: dict[str, Any], *, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """A queued dry run's work: its hits, as the admin API shows them."""
    layer = load_rule_text(params["rules"], source_name="rules")
    rule_ids = frozenset([r.id for r in layer.custom_rules] + list(layer.builtin_overrides)) or None
    until = datetime.fromisoformat(params["until"])
    hits = dry_run(
        default_rule_set().override(layer),
        load_histories(store, now=until),
        start=until - timedelta(seconds=params["since_s"]),
        end=until,
        rule_ids=rule_ids,
        progress=progress,
    )
    return {"hits": [hit_json(h) for h in hits]}
