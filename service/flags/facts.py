"""Facts of one project as stored now: the input of an evaluation (items with their changes and
latest activity, milestones, the project)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from service.domain.ledger import build_milestone_commitment
from service.domain.work import Change, Project
from service.errors import NotFoundError
from service.rules import (
    FactsConfig,
    ItemFacts,
    MilestoneFacts,
    ProjectFacts,
    build_item_facts,
    build_milestone_facts,
    build_project_facts,
    sprint_closes,
    team_throughput,
)
from service.store.activity import list_latest_item_activity
from service.store.db import Session
from service.store.items import list_milestone_changes
from service.store.work_scan import (
    read_item_changes,
    read_project,
    read_project_items,
    read_project_milestones,
    read_source_synced_at,
)


@dataclass(frozen=True, slots=True)
class ProjectSnapshot:
    project: Project
    items: list[ItemFacts]
    milestones: list[MilestoneFacts]
    summary: ProjectFacts
    changes: dict[str, list[Change]]

    @property
    def all_facts(self) -> list[ItemFacts | MilestoneFacts | ProjectFacts]:
        return [*self.items, *self.milestones, self.summary]


def load_project_snapshot(session: Session, *, project_id: int, now: datetime) -> ProjectSnapshot:
    project = read_project(session, project_id=project_id)
    if project is None:
        raise NotFoundError(f"project {project_id} not found", details={"project_id": project_id})
    found, data_as_of = read_source_synced_at(session, source_id=project.source_id)
    if not found:
        raise NotFoundError(f"source {project.source_id} not found", details={"source_id": project.source_id})
    items = read_project_items(session, project_id=project_id, with_raw=False)
    changes: dict[str, list[Change]] = defaultdict(list)
    for change in read_item_changes(session, item_ids=[i.id for i in items if i.id is not None]):
        changes[change.item_external_id].append(change)
    # A changelog names statuses but not their categories: what the stored items show is the mapping.
    config = FactsConfig(status_categories={i.status.casefold(): i.status_category for i in items})
    activity = list_latest_item_activity(session, project_id=project_id)
    item_facts = [
        build_item_facts(
            item,
            changes.get(item.external_id, ()),
            activity=[activity[item.external_id]] if item.external_id in activity else (),
            config=config,
            data_as_of=data_as_of,
        )
        for item in items
    ]
    throughput = team_throughput(item_facts, as_of=now)
    # When each milestone's earliest member was created, in one pass over the items.
    first_created: dict[str, datetime] = {}
    for facts in item_facts:
        created_at = facts.item.created_at
        for milestone_id in facts.item.milestone_external_ids:
            known = first_created.get(milestone_id)
            if known is None or created_at < known:
                first_created[milestone_id] = created_at
    milestone_facts = []
    milestones = read_project_milestones(session, project_id=project_id)
    closes = sprint_closes(milestones)
    moves = list_milestone_changes(session, milestone_ids=[m.id for m in milestones if m.id is not None])
    for milestone in milestones:
        commitment = (
            build_milestone_commitment(
                milestone, moves, created_at=first_created.get(milestone.external_id, now)
            )
            if milestone.due_date is not None
            else None
        )
        milestone_facts.append(
            build_milestone_facts(
                milestone,
                item_facts,
                commitment=commitment,
                as_of=now,
                sprint_closes=closes,
                throughput=throughput,
                data_as_of=data_as_of,
            )
        )
    summary = build_project_facts(
        project, item_facts, milestone_facts, as_of=now, throughput=throughput, data_as_of=data_as_of
    )
    return ProjectSnapshot(
        project=project, items=item_facts, milestones=milestone_facts, summary=summary, changes=dict(changes)
    )
