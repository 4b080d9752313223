"""The ORM reads of a project's items, changes and milestones, and the snapshot built from them.

The store reads them on the driver's cursor now; these are the ORM statements they replaced, kept
as the reference the fast reads must match object for object and in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import MilestoneKind, Visibility
from service.domain.ledger import build_milestone_commitment
from service.domain.work import Change, Milestone, Project, WorkItem
from service.flags.facts import ProjectSnapshot
from service.rules import (
    FactsConfig,
    build_item_facts,
    build_milestone_facts,
    build_project_facts,
    sprint_closes,
    team_throughput,
)
from service.store.activity import list_project_activity
from service.store.mapping import work_item_from_row
from service.store.orm import ChangeRow, MilestoneRow, ProjectRow, SourceRow, WorkItemRow


def orm_project(session: Session, *, project_id: int) -> Project | None:
    row = session.get(ProjectRow, project_id)
    if row is None:
        return None
    return Project(
        id=row.id,
        source_id=row.source_id,
        external_id=row.external_id,
        key=row.key,
        name=row.name,
        url=row.url,
    )


def orm_project_items(session: Session, *, project_id: int, visible_only: bool = True) -> list[WorkItem]:
    external_id = session.scalars(select(ProjectRow.external_id).where(ProjectRow.id == project_id)).one()
    query = select(WorkItemRow).where(WorkItemRow.project_id == project_id)
    if visible_only:
        query = query.where(WorkItemRow.visibility == Visibility.VISIBLE.value)
    return [work_item_from_row(row, project_external_id=external_id) for row in session.scalars(query)]


def orm_item_changes(session: Session, *, item_ids: Iterable[int]) -> list[Change]:
    ids = list(item_ids)
    if not ids:
        return []
    rows = session.execute(
        select(ChangeRow, WorkItemRow.external_id)
        .join(WorkItemRow, WorkItemRow.id == ChangeRow.item_id)
        .where(ChangeRow.item_id.in_(ids))
        .order_by(ChangeRow.changed_at, ChangeRow.id)
    )
    return [
        Change(
            id=row.id,
            source_id=row.source_id,
            item_external_id=item_external_id,
            external_id=row.external_id,
            field=row.field,
            from_value=row.from_value,
            to_value=row.to_value,
            from_display=row.from_display,
            to_display=row.to_display,
            author=row.author,
            changed_at=row.changed_at,
        )
        for row, item_external_id in rows
    ]


def orm_project_milestones(session: Session, *, project_id: int) -> list[Milestone]:
    external_id = session.scalars(select(ProjectRow.external_id).where(ProjectRow.id == project_id)).one()
    rows = session.scalars(select(MilestoneRow).where(MilestoneRow.project_id == project_id))
    return [
        Milestone(
            id=r.id,
            source_id=r.source_id,
            project_external_id=external_id,
            external_id=r.external_id,
            name=r.name,
            kind=MilestoneKind(r.kind),
            start_date=r.start_date,
            due_date=r.due_date,
            released=r.released,
            completed_at=r.completed_at,
            started_at=r.started_at,
            state=r.state,
            goal=r.goal,
        )
        for r in rows
    ]


def orm_snapshot(session: Session, *, project_id: int, now: datetime) -> ProjectSnapshot:
    """The snapshot as built from the ORM reads, milestone by milestone over every item."""
    project = orm_project(session, project_id=project_id)
    assert project is not None
    source = session.get(SourceRow, project.source_id)
    assert source is not None
    data_as_of = source.last_synced_at
    # Evaluation reads items without their provider payload.
    items = [replace(i, raw={}) for i in orm_project_items(session, project_id=project_id)]
    changes: dict[str, list[Change]] = defaultdict(list)
    for change in orm_item_changes(session, item_ids=[i.id for i in items if i.id is not None]):
        changes[change.item_external_id].append(change)
    config = FactsConfig(status_categories={i.status.casefold(): i.status_category for i in items})
    # Every activity of the project, where the evaluation reads only each item's latest.
    activity = list_project_activity(session, project_id=project_id)
    item_facts = [
        build_item_facts(
            item, changes.get(item.external_id, ()), activity=activity, config=config, data_as_of=data_as_of
        )
        for item in items
    ]
    throughput = team_throughput(item_facts, as_of=now)
    milestone_facts = []
    milestones = orm_project_milestones(session, project_id=project_id)
    closes = sprint_closes(milestones)
    for milestone in milestones:
        members = [
            f.item.created_at for f in item_facts if milestone.external_id in f.item.milestone_external_ids
        ]
        commitment = (
            build_milestone_commitment(milestone, (), created_at=min(members, default=now))
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
