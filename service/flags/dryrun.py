"""A dry run over stored history: what a rule set would have flagged, where and when."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from service.domain.work import Change
from service.rules import (
    DryRunHit,
    FactsConfig,
    ItemHistory,
    MilestoneHistory,
    ProjectHistory,
    RuleSet,
    dry_run,
)
from service.store.items import list_item_changes, list_project_items, list_project_milestones
from service.store.projects import list_projects
from service.store.runtime import Store


def load_histories(store: Store, *, now: datetime) -> list[ProjectHistory]:
    """Every project's items (deleted ones too: they were there in the past) with their changes.

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
                        ItemHistory(item=i, changes=tuple(changes.get(i.external_id, ()))) for i in items
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
