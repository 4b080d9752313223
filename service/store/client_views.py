"""What a client may read: its projects, milestones, commitments and published risks.

Every query here takes the client's scope grants and filters by them in SQL, so a row outside the
scope is never loaded, let alone returned. A client sees a milestone of its projects only when it
sees one of its member items, and its progress counts only those: a filtered scope learns nothing
of the work it is not shown, not even the name of a milestone that holds none of its items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from service.domain.commitments import Commitment, CommitmentMove
from service.domain.enums import (
    CommitmentSubject,
    FlagState,
    FlagSubject,
    MilestoneKind,
    ScopeRule,
    Severity,
    StatusCategory,
)
from service.domain.work import Project
from service.store.orm import (
    ClientScopeRow,
    CommitmentMoveRow,
    CommitmentRow,
    FlagRow,
    ItemMilestoneRow,
    MilestoneRow,
    ProjectRow,
    WorkItemRow,
)
from service.store.scope_filter import ScopeGrant, visible_items_condition


@dataclass(frozen=True, slots=True)
class ProgressCounts:
    todo: int = 0
    in_progress: int = 0
    done: int = 0

    @property
    def total(self) -> int:
        return self.todo + self.in_progress + self.done


@dataclass(frozen=True, slots=True)
class ProjectView:
    project: Project
    counts: ProgressCounts


@dataclass(frozen=True, slots=True)
class MilestoneView:
    id: int
    project_id: int
    name: str
    kind: MilestoneKind
    start_date: date | None
    due_date: date | None
    released: bool
    completed_at: datetime | None
    counts: ProgressCounts


@dataclass(frozen=True, slots=True)
class CommitmentView:
    commitment: Commitment
    project_id: int
    title: str


@dataclass(frozen=True, slots=True)
class RiskView:
    id: int
    subject: FlagSubject
    subject_id: int
    project_id: int
    severity: Severity
    text: str
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class ClientGrants:
    """A client's scope: the grants and, for quick membership checks, the scoped project ids."""

    client_id: int
    grants: tuple[ScopeGrant, ...]

    @property
    def project_ids(self) -> frozenset[int]:
        return frozenset(grant.project_id for grant in self.grants)


def read_grants(session: Session, *, client_id: int) -> ClientGrants:
    rows = session.execute(
        select(ClientScopeRow.project_id, ClientScopeRow.rule, ClientScopeRow.value)
        .where(ClientScopeRow.client_id == client_id)
        .order_by(ClientScopeRow.project_id)
    )
    grants = tuple(ScopeGrant(project_id=p, rule=ScopeRule(rule), value=value) for p, rule, value in rows)
    return ClientGrants(client_id=client_id, grants=grants)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def visible_items(session: Session, grants: ClientGrants) -> ColumnElement[bool]:
    return visible_items_condition(grants.grants, dialect=_dialect(session))


def milestone_seen(session: Session, grants: ClientGrants) -> ColumnElement[bool]:
    """The milestone (`MilestoneRow`, correlated) has a member item the client sees."""
    return exists(
        select(ItemMilestoneRow.item_id)
        .join(WorkItemRow, WorkItemRow.id == ItemMilestoneRow.item_id)
        .where(ItemMilestoneRow.milestone_id == MilestoneRow.id, visible_items(session, grants))
    )


def _counts(rows: Sequence[tuple[int, str, int]]) -> dict[int, ProgressCounts]:
    by_key: dict[int, dict[str, int]] = defaultdict(dict)
    for key, category, count in rows:
        by_key[key][category] = count
    return {
        key: ProgressCounts(
            todo=values.get(StatusCategory.TODO.value, 0),
            in_progress=values.get(StatusCategory.IN_PROGRESS.value, 0),
            done=values.get(StatusCategory.DONE.value, 0),
        )
        for key, values in by_key.items()
    }


def list_project_views(
    session: Session, grants: ClientGrants, *, project_id: int | None = None
) -> list[ProjectView]:
    """The client's projects with item counts by status category (only the items it may see)."""
    ids = grants.project_ids if project_id is None else grants.project_ids & {project_id}
    if not ids:
        return []
    projects = session.scalars(select(ProjectRow).where(ProjectRow.id.in_(ids)).order_by(ProjectRow.id))
    rows = session.execute(
        select(WorkItemRow.project_id, WorkItemRow.status_category, func.count())
        .where(visible_items(session, grants), WorkItemRow.project_id.in_(ids))
        .group_by(WorkItemRow.project_id, WorkItemRow.status_category)
    )
    counts = _counts([(p, c, n) for p, c, n in rows])
    return [
        ProjectView(
            project=Project(
                id=row.id,
                source_id=row.source_id,
                external_id=row.external_id,
                key=row.key,
                name=row.name,
                url=row.url,
            ),
            counts=counts.get(row.id, ProgressCounts()),
        )
        for row in projects
    ]


def list_milestones(
    session: Session,
    grants: ClientGrants,
    *,
    project_id: int | None = None,
    milestone_id: int | None = None,
) -> list[MilestoneView]:
    """Milestones of the client's projects that hold an item it may see, with progress over those."""
    ids = grants.project_ids if project_id is None else grants.project_ids & {project_id}
    if not ids:
        return []
    query = select(MilestoneRow).where(MilestoneRow.project_id.in_(ids))
    if milestone_id is not None:
        query = query.where(MilestoneRow.id == milestone_id)
    milestones = list(session.scalars(query.order_by(MilestoneRow.due_date, MilestoneRow.id)))
    if not milestones:
        return []
    rows = session.execute(
        select(ItemMilestoneRow.milestone_id, WorkItemRow.status_category, func.count())
        .join(WorkItemRow, WorkItemRow.id == ItemMilestoneRow.item_id)
        .where(
            ItemMilestoneRow.milestone_id.in_([m.id for m in milestones]),
            visible_items(session, grants),
        )
        .group_by(ItemMilestoneRow.milestone_id, WorkItemRow.status_category)
    )
    counts = _counts([(m, c, n) for m, c, n in rows])
    return [
        MilestoneView(
            id=m.id,
            project_id=m.project_id,
            name=m.name,
            kind=MilestoneKind(m.kind),
            start_date=m.start_date,
            due_date=m.due_date,
            released=m.released,
            completed_at=m.completed_at,
            counts=counts[m.id],
        )
        for m in milestones
        if m.id in counts
    ]


def list_commitments(
    session: Session,
    grants: ClientGrants,
    *,
    project_id: int | None = None,
    commitment_id: int | None = None,
) -> list[CommitmentView]:
    if not grants.grants:
        return []
    ids = grants.project_ids if project_id is None else grants.project_ids & {project_id}
    item_query = (
        select(CommitmentRow, WorkItemRow.project_id, WorkItemRow.key + " " + WorkItemRow.title)
        .join(WorkItemRow, WorkItemRow.id == CommitmentRow.subject_id)
        .where(
            CommitmentRow.subject == CommitmentSubject.ITEM.value,
            WorkItemRow.project_id.in_(ids),
            visible_items(session, grants),
        )
    )
    milestone_query = (
        select(CommitmentRow, MilestoneRow.project_id, MilestoneRow.name)
        .join(MilestoneRow, MilestoneRow.id == CommitmentRow.subject_id)
        .where(
            CommitmentRow.subject == CommitmentSubject.MILESTONE.value,
            MilestoneRow.project_id.in_(ids),
            milestone_seen(session, grants),
        )
    )
    if commitment_id is not None:
        item_query = item_query.where(CommitmentRow.id == commitment_id)
        milestone_query = milestone_query.where(CommitmentRow.id == commitment_id)
    found = [*session.execute(item_query).all(), *session.execute(milestone_query).all()]
    found.sort(key=lambda entry: entry[0].id)
    moves: dict[int, list[CommitmentMove]] = defaultdict(list)
    if found:
        move_rows = session.scalars(
            select(CommitmentMoveRow)
            .where(CommitmentMoveRow.commitment_id.in_([row.id for row, _p, _t in found]))
            .order_by(CommitmentMoveRow.commitment_id, CommitmentMoveRow.moved_at, CommitmentMoveRow.id)
        )
        for move in move_rows:
            moves[move.commitment_id].append(
                CommitmentMove(
                    moved_at=move.moved_at,
                    moved_by=move.moved_by,
                    from_date=move.from_date,
                    to_date=move.to_date,
                )
            )
    return [
        CommitmentView(
            commitment=Commitment(
                id=row.id,
                subject=CommitmentSubject(row.subject),
                subject_id=row.subject_id,
                baseline_date=row.baseline_date,
                current_date=row.current_date,
                promised_at=row.promised_at,
                moves=tuple(moves.get(row.id, ())),
                delivered_at=row.delivered_at,
            ),
            project_id=project,
            title=title,
        )
        for row, project, title in found
    ]


def list_open_risks(
    session: Session, grants: ClientGrants, *, project_id: int | None = None
) -> list[RiskView]:
    """Open flags an operator published, on subjects the client may see, in their published wording."""
    ids = grants.project_ids if project_id is None else grants.project_ids & {project_id}
    if not ids:
        return []
    published = (
        FlagRow.state == FlagState.OPEN.value,
        FlagRow.published.is_(True),
        FlagRow.client_text.is_not(None),
    )
    on_items = (
        select(FlagRow, WorkItemRow.project_id)
        .join(WorkItemRow, WorkItemRow.id == FlagRow.subject_id)
        .where(
            *published,
            FlagRow.subject == FlagSubject.ITEM.value,
            WorkItemRow.project_id.in_(ids),
            visible_items(session, grants),
        )
    )
    on_milestones = (
        select(FlagRow, MilestoneRow.project_id)
        .join(MilestoneRow, MilestoneRow.id == FlagRow.subject_id)
        .where(
            *published,
            FlagRow.subject == FlagSubject.MILESTONE.value,
            MilestoneRow.project_id.in_(ids),
            milestone_seen(session, grants),
        )
    )
    on_projects = select(FlagRow, FlagRow.subject_id).where(
        *published, FlagRow.subject == FlagSubject.PROJECT.value, FlagRow.subject_id.in_(ids)
    )
    found = [
        *session.execute(on_items).all(),
        *session.execute(on_milestones).all(),
        *session.execute(on_projects).all(),
    ]
    found.sort(key=lambda entry: entry[0].id)
    return [
        RiskView(
            id=row.id,
            subject=FlagSubject(row.subject),
            subject_id=row.subject_id,
            project_id=project,
            severity=Severity(row.severity),
            text=row.client_text or "",
            first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at,
        )
        for row, project in found
    ]


def milestone_in_scope(session: Session, grants: ClientGrants, *, milestone_id: int) -> bool:
    """The milestone is in one of the client's projects and holds an item the client sees."""
    if not grants.project_ids:
        return False
    found = session.scalars(
        select(MilestoneRow.id).where(
            MilestoneRow.id == milestone_id,
            MilestoneRow.project_id.in_(grants.project_ids),
            milestone_seen(session, grants),
        )
    ).first()
    return found is not None


def list_source_ids_of_projects(session: Session, *, project_ids: frozenset[int]) -> list[int]:
    if not project_ids:
        return []
    return list(
        session.scalars(
            select(ProjectRow.source_id)
            .where(ProjectRow.id.in_(project_ids))
            .distinct()
            .order_by(ProjectRow.source_id)
        )
    )


def items_in_scope(
    session: Session, grants: ClientGrants, *, project_ids: frozenset[int]
) -> ColumnElement[bool]:
    """The visibility condition narrowed to some of the client's projects."""
    return and_(visible_items(session, grants), WorkItemRow.project_id.in_(project_ids))
