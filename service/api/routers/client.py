"""Client routes under /v1: projects, milestones, commitments, risks, KPIs and feedback.

Every query is filtered by the caller's scope; an object outside it answers 404, exactly like one
that does not exist, so ids reveal nothing about other clients.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.api.auth import ClientCaller, require_client
from service.api.responses import cached_json
from service.api.routers.context import MAX_ID, ObjectId, freshness_out, snapshots_of
from service.api.schemas.client import (
    CommitmentList,
    CommitmentMoveOut,
    CommitmentOne,
    CommitmentOut,
    MilestoneList,
    MilestoneOne,
    MilestoneOut,
    ProgressOut,
    ProjectList,
    ProjectOne,
    ProjectOut,
    RiskList,
    RiskOut,
)
from service.api.schemas.common import CLIENT_ERRORS, CLIENT_OBJECT_ERRORS, NOT_MODIFIED
from service.api.schemas.kpis import KpisOut, kpis_out
from service.app_state import store_of
from service.errors import NotFoundError
from service.feed.kpis import compute_kpis
from service.feed.snapshots import ClientSnapshot
from service.store.client_views import (
    CommitmentView,
    MilestoneView,
    ProgressCounts,
    ProjectView,
    list_commitments,
    list_milestones,
    list_open_risks,
    list_projects,
)
from service.store.db import reading

router = APIRouter(prefix="/v1", tags=["client"])
Client = Annotated[ClientCaller, Depends(require_client)]
ProjectFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this project.")]


def _progress(counts: ProgressCounts) -> ProgressOut:
    return ProgressOut(done=counts.done, total=counts.total, todo=counts.todo, in_progress=counts.in_progress)


def _milestone(view: MilestoneView) -> MilestoneOut:
    return MilestoneOut(
        id=view.id,
        project_id=view.project_id,
        name=view.name,
        kind=view.kind,
        start_date=view.start_date,
        due_date=view.due_date,
        released=view.released,
        completed_at=view.completed_at,
        progress=_progress(view.counts),
    )


def _project(view: ProjectView, milestones: list[MilestoneView]) -> ProjectOut:
    assert view.project.id is not None
    return ProjectOut(
        id=view.project.id,
        key=view.project.key,
        name=view.project.name,
        url=view.project.url,
        progress=_progress(view.counts),
        milestones=[_milestone(m) for m in milestones if m.project_id == view.project.id],
    )


def _commitment(view: CommitmentView, *, today: datetime) -> CommitmentOut:
    c = view.commitment
    assert c.id is not None
    return CommitmentOut(
        id=c.id,
        project_id=view.project_id,
        subject=c.subject,
        subject_id=c.subject_id,
        title=view.title,
        baseline_date=c.baseline_date,
        current_date=c.current_date,
        promised_at=c.promised_at,
        delivered_at=c.delivered_at,
        slip_count=c.slip_count,
        slip_days=c.slip_days,
        outcome=c.outcome(today.date()),
        moves=[
            CommitmentMoveOut(
                moved_at=m.moved_at,
                moved_by=m.moved_by,
                from_date=m.from_date,
                to_date=m.to_date,
                days=m.days,
            )
            for m in c.moves
        ],
    )


def _require_project(snapshot: ClientSnapshot, project_id: int | None) -> None:
    if project_id is not None and project_id not in snapshot.grants.project_ids:
        raise NotFoundError(f"project {project_id} not found", details={"project_id": project_id})


@router.get(
    "/projects",
    response_model=ProjectList,
    responses={**CLIENT_ERRORS, **NOT_MODIFIED},
    summary="The caller's projects with progress",
)
def get_projects(request: Request, caller: Client) -> Response:
    """Each project with items done / total, by status category, and progress per milestone."""
    snapshot = snapshots_of(request).get(caller.client_id)
    with reading(store_of(request).sessions) as session:
        projects = list_projects(session, snapshot.grants)
        milestones = list_milestones(session, snapshot.grants)
    body = ProjectList(
        projects=[_project(p, milestones) for p in projects], freshness=freshness_out(snapshot)
    )
    return cached_json(request, body)


@router.get(
    "/projects/{project_id}",
    response_model=ProjectOne,
    responses={**CLIENT_OBJECT_ERRORS, **NOT_MODIFIED},
    summary="One project with progress",
)
def get_project(request: Request, caller: Client, project_id: ObjectId) -> Response:
    snapshot = snapshots_of(request).get(caller.client_id)
    _require_project(snapshot, project_id)
    with reading(store_of(request).sessions) as session:
        projects = list_projects(session, snapshot.grants, project_id=project_id)
        milestones = list_milestones(session, snapshot.grants, project_id=project_id)
    if not projects:
        raise NotFoundError(f"project {project_id} not found", details={"project_id": project_id})
    body = ProjectOne(project=_project(projects[0], milestones), freshness=freshness_out(snapshot))
    return cached_json(request, body)


@router.get(
    "/milestones",
    response_model=MilestoneList,
    responses={**CLIENT_OBJECT_ERRORS, **NOT_MODIFIED},
    summary="Milestones of the caller's projects",
)
def get_milestones(request: Request, caller: Client, project_id: ProjectFilter = None) -> Response:
    snapshot = snapshots_of(request).get(caller.client_id)
    _require_project(snapshot, project_id)
    with reading(store_of(request).sessions) as session:
        milestones = list_milestones(session, snapshot.grants, project_id=project_id)
    body = MilestoneList(milestones=[_milestone(m) for m in milestones], freshness=freshness_out(snapshot))
    return cached_json(request, body)


@router.get(
    "/milestones/{milestone_id}",
    response_model=MilestoneOne,
    responses={**CLIENT_OBJECT_ERRORS, **NOT_MODIFIED},
    summary="One milestone with progress",
)
def get_milestone(request: Request, caller: Client, milestone_id: ObjectId) -> Response:
    snapshot = snapshots_of(request).get(caller.client_id)
    with reading(store_of(request).sessions) as session:
        milestones = list_milestones(session, snapshot.grants, milestone_id=milestone_id)
    if not milestones:
        raise NotFoundError(f"milestone {milestone_id} not found", details={"milestone_id": milestone_id})
    return cached_json(
        request, MilestoneOne(milestone=_milestone(milestones[0]), freshness=freshness_out(snapshot))
    )


@router.get(
    "/commitments",
    response_model=CommitmentList,
    responses={**CLIENT_OBJECT_ERRORS, **NOT_MODIFIED},
    summary="Dates promised: baseline against current, slips and outcome",
)
def get_commitments(request: Request, caller: Client, project_id: ProjectFilter = None) -> Response:
    snapshot = snapshots_of(request).get(caller.client_id)
    _require_project(snapshot, project_id)
    with reading(store_of(request).sessions) as session:
        views = list_commitments(session, snapshot.grants, project_id=project_id)
    now = datetime.now(UTC)
    body = CommitmentList(
        commitments=[_commitment(v, today=now) for v in views], freshness=freshness_out(snapshot)
    )
    return cached_json(request, body)


@router.get(
    "/commitments/{commitment_id}",
    response_model=CommitmentOne,
    responses={**CLIENT_OBJECT_ERRORS, **NOT_MODIFIED},
    summary="One commitment with every move",
)
def get_commitment(request: Request, caller: Client, commitment_id: ObjectId) -> Response:
    snapshot = snapshots_of(request).get(caller.client_id)
    with reading(store_of(request).sessions) as session:
        views = list_commitments(session, snapshot.grants, commitment_id=commitment_id)
    if not views:
        raise NotFoundError(f"commitment {commitment_id} not found", details={"commitment_id": commitment_id})
    body = CommitmentOne(
        commitment=_commitment(views[0], today=datetime.now(UTC)), freshness=freshness_out(snapshot)
    )
    return cached_json(request, body)


@router.get(
    "/risks",
    response_model=RiskList,
    responses={**CLIENT_OBJECT_ERRORS, **NOT_MODIFIED},
    summary="Open risks the agency published, in its wording",
)
def get_risks(request: Request, caller: Client, project_id: ProjectFilter = None) -> Response:
    snapshot = snapshots_of(request).get(caller.client_id)
    _require_project(snapshot, project_id)
    with reading(store_of(request).sessions) as session:
        risks = list_open_risks(session, snapshot.grants, project_id=project_id)
    body = RiskList(
        risks=[
            RiskOut(
                id=r.id,
                project_id=r.project_id,
                subject=r.subject,
                subject_id=r.subject_id,
                severity=r.severity,
                text=r.text,
                first_seen_at=r.first_seen_at,
                last_seen_at=r.last_seen_at,
            )
            for r in risks
        ],
        freshness=freshness_out(snapshot),
    )
    return cached_json(request, body)


@router.get(
    "/kpis",
    response_model=KpisOut,
    responses={**CLIENT_OBJECT_ERRORS, **NOT_MODIFIED},
    summary="Schedule, cost, quality and satisfaction KPIs",
)
def get_kpis(
    request: Request,
    caller: Client,
    project_id: ProjectFilter = None,
    weeks: Annotated[int, Query(ge=1, le=52, description="Weeks of throughput history.")] = 12,
) -> Response:
    snapshot = snapshots_of(request).get(caller.client_id)
    _require_project(snapshot, project_id)
    today = datetime.now(UTC).date()
    with reading(store_of(request).sessions) as session:
        kpis = compute_kpis(session, snapshot.grants, project_id=project_id, today=today, weeks=weeks)
    return cached_json(request, kpis_out(kpis, freshness=freshness_out(snapshot)))
