"""The facts KPIs are computed from, for the items a client may see (see `service.feed.kpis`).

Time spent comes from an item's worklogs where it has any, else from the provider's time-tracking
field (`work_items.spent_seconds`); time logged in a period only from worklogs, which carry when the
work started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Subquery, and_, func, select
from sqlalchemy.orm import Session, aliased

from service.domain.enums import ItemKind, StatusCategory
from service.store.orm import (
    ChangeRow,
    FeedbackRow,
    ItemMilestoneRow,
    MilestoneRow,
    ProjectRow,
    WorkItemRow,
    WorklogRow,
)

# Jira records work start as a "status" change, Trello as a move between lists ("idList").
WORK_STARTED_FIELDS = ("status", "idList")
# Jira clears "resolution" when a done issue is reopened.
RESOLUTION_FIELD = "resolution"


@dataclass(frozen=True, slots=True)
class DoneItem:
    item_id: int
    created_at: datetime
    resolved_at: datetime
    started_at: datetime | None


@dataclass(frozen=True, slots=True)
class Effort:
    key: int
    name: str
    estimate_seconds: int
    spent_seconds: int
    items_estimated: int
    items: int


def list_done_items(session: Session, *, visible: ColumnElement[bool]) -> list[DoneItem]:
    """Done items with their resolution time and when work on them first started."""
    done = (WorkItemRow.status_category == StatusCategory.DONE.value, WorkItemRow.resolved_at.is_not(None))
    started = (
        select(ChangeRow.item_id, func.min(ChangeRow.changed_at).label("started_at"))
        .where(
            ChangeRow.field.in_(WORK_STARTED_FIELDS),
            ChangeRow.item_id.in_(select(WorkItemRow.id).where(visible, *done)),
        )
        .group_by(ChangeRow.item_id)
        .subquery()
    )
    rows = session.execute(
        select(WorkItemRow.id, WorkItemRow.created_at, WorkItemRow.resolved_at, started.c.started_at)
        .outerjoin(started, started.c.item_id == WorkItemRow.id)
        .where(visible, *done)
    )
    return [
        DoneItem(item_id=item_id, created_at=created, resolved_at=resolved, started_at=started_at)
        for item_id, created, resolved, started_at in rows
        if resolved is not None
    ]


def _as_int(value: object) -> int:
    return int(value) if isinstance(value, int | float | Decimal) else 0


def _logged_per_item(visible: ColumnElement[bool]) -> Subquery:
    """Seconds logged in worklogs, per visible item that has any."""
    return (
        select(WorklogRow.item_id, func.sum(WorklogRow.spent_seconds).label("seconds"))
        .join(WorkItemRow, WorkItemRow.id == WorklogRow.item_id)
        .where(visible)
        .group_by(WorklogRow.item_id)
        .subquery()
    )


def _spent(logged: Subquery) -> ColumnElement[int]:
    """An item's time spent: its worklogs where it has any, else the provider's time-tracking field."""
    return func.coalesce(logged.c.seconds, WorkItemRow.spent_seconds)


def list_effort_by_project(session: Session, *, visible: ColumnElement[bool]) -> list[Effort]:
    logged = _logged_per_item(visible)
    rows = session.execute(
        select(
            WorkItemRow.project_id,
            ProjectRow.name,
            func.sum(WorkItemRow.estimate_seconds),
            func.sum(_spent(logged)),
            func.count(WorkItemRow.estimate_seconds),
            func.count(),
        )
        .join(ProjectRow, ProjectRow.id == WorkItemRow.project_id)
        .outerjoin(logged, logged.c.item_id == WorkItemRow.id)
        .where(visible)
        .group_by(WorkItemRow.project_id, ProjectRow.name)
        .order_by(WorkItemRow.project_id)
    )
    return [
        Effort(
            key=project_id,
            name=name,
            estimate_seconds=_as_int(estimate),
            spent_seconds=_as_int(spent),
            items_estimated=estimated,
            items=count,
        )
        for project_id, name, estimate, spent, estimated, count in rows
    ]


def list_effort_by_milestone(session: Session, *, visible: ColumnElement[bool]) -> list[Effort]:
    logged = _logged_per_item(visible)
    rows = session.execute(
        select(
            MilestoneRow.id,
            MilestoneRow.name,
            func.sum(WorkItemRow.estimate_seconds),
            func.sum(_spent(logged)),
            func.count(WorkItemRow.estimate_seconds),
            func.count(),
        )
        .join(ItemMilestoneRow, ItemMilestoneRow.milestone_id == MilestoneRow.id)
        .join(WorkItemRow, WorkItemRow.id == ItemMilestoneRow.item_id)
        .outerjoin(logged, logged.c.item_id == WorkItemRow.id)
        .where(visible)
        .group_by(MilestoneRow.id, MilestoneRow.name)
        .order_by(MilestoneRow.id)
    )
    return [
        Effort(
            key=milestone_id,
            name=name,
            estimate_seconds=_as_int(estimate),
            spent_seconds=_as_int(spent),
            items_estimated=estimated,
            items=count,
        )
        for milestone_id, name, estimate, spent, estimated, count in rows
    ]


def count_seconds_logged(
    session: Session, *, visible: ColumnElement[bool], since: datetime, until: datetime
) -> int:
    """Seconds of the worklogs of visible items started in [since, until)."""
    total = session.scalar(
        select(func.sum(WorklogRow.spent_seconds))
        .join(WorkItemRow, WorkItemRow.id == WorklogRow.item_id)
        .where(visible, WorklogRow.started_at >= since, WorklogRow.started_at < until)
    )
    return _as_int(total)


def count_bugs_found_after_done(session: Session, *, visible: ColumnElement[bool]) -> int:
    """Bugs raised after the milestone they belong to completed, or after their parent was done."""
    after_milestone = (
        select(WorkItemRow.id)
        .join(ItemMilestoneRow, ItemMilestoneRow.item_id == WorkItemRow.id)
        .join(MilestoneRow, MilestoneRow.id == ItemMilestoneRow.milestone_id)
        .where(
            visible,
            WorkItemRow.kind == ItemKind.BUG.value,
            MilestoneRow.completed_at.is_not(None),
            WorkItemRow.created_at > MilestoneRow.completed_at,
        )
    )
    parent = aliased(WorkItemRow)
    after_parent = (
        select(WorkItemRow.id)
        .join(
            parent,
            and_(
                parent.source_id == WorkItemRow.source_id,
                parent.external_id == WorkItemRow.parent_external_id,
            ),
        )
        .where(
            visible,
            WorkItemRow.kind == ItemKind.BUG.value,
            parent.resolved_at.is_not(None),
            WorkItemRow.created_at > parent.resolved_at,
        )
    )
    return len(set(session.scalars(after_milestone)) | set(session.scalars(after_parent)))


def count_reopened_and_done(session: Session, *, visible: ColumnElement[bool]) -> tuple[int, int]:
    """(items reopened at least once, items ever done: done now or reopened)."""
    reopened = set(
        session.scalars(
            select(ChangeRow.item_id)
            .where(
                ChangeRow.field == RESOLUTION_FIELD,
                ChangeRow.from_value.is_not(None),
                ChangeRow.to_value.is_(None),
                ChangeRow.item_id.in_(select(WorkItemRow.id).where(visible)),
            )
            .distinct()
        )
    )
    done = set(
        session.scalars(
            select(WorkItemRow.id).where(visible, WorkItemRow.status_category == StatusCategory.DONE.value)
        )
    )
    return len(reopened), len(done | reopened)


def list_ratings(session: Session, *, client_id: int, since: datetime | None = None) -> list[int]:
    query = select(FeedbackRow.rating).where(FeedbackRow.client_id == client_id)
    if since is not None:
        query = query.where(FeedbackRow.created_at >= since)
    return list(session.scalars(query))
