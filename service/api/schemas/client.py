"""What clients read and send under /v1."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.api.schemas.common import FreshnessOut, IsoDate, RequestBody
from service.domain.enums import (
    CommitmentOutcome,
    CommitmentSubject,
    FeedbackSubject,
    FeedEventKind,
    FlagSubject,
    MilestoneKind,
    Severity,
)


class ProgressOut(BaseModel):
    done: int
    total: int
    todo: int
    in_progress: int


class MilestoneOut(BaseModel):
    id: int
    project_id: int
    name: str
    kind: MilestoneKind
    start_date: date | None
    due_date: date | None
    released: bool
    completed_at: datetime | None
    progress: ProgressOut


class ProjectOut(BaseModel):
    id: int
    key: str
    name: str
    url: str | None
    progress: ProgressOut
    milestones: list[MilestoneOut]


class ProjectList(BaseModel):
    projects: list[ProjectOut]
    freshness: FreshnessOut


class ProjectOne(BaseModel):
    project: ProjectOut
    freshness: FreshnessOut


class MilestoneList(BaseModel):
    milestones: list[MilestoneOut]
    freshness: FreshnessOut


class MilestoneOne(BaseModel):
    milestone: MilestoneOut
    freshness: FreshnessOut


class CommitmentMoveOut(BaseModel):
    moved_at: datetime
    moved_by: str | None
    from_date: date | None
    to_date: date | None
    days: int


class CommitmentOut(BaseModel):
    id: int
    project_id: int
    subject: CommitmentSubject
    subject_id: int
    title: str
    baseline_date: date
    current_date: date | None
    promised_at: datetime
    delivered_at: datetime | None
    slip_count: int
    slip_days: int
    outcome: CommitmentOutcome
    moves: list[CommitmentMoveOut]


class CommitmentList(BaseModel):
    commitments: list[CommitmentOut]
    freshness: FreshnessOut


class CommitmentOne(BaseModel):
    commitment: CommitmentOut
    freshness: FreshnessOut


class RiskOut(BaseModel):
    id: int
    project_id: int
    subject: FlagSubject
    subject_id: int
    severity: Severity
    text: str
    first_seen_at: datetime
    last_seen_at: datetime


class RiskList(BaseModel):
    risks: list[RiskOut]
    freshness: FreshnessOut


class FeedEventOut(BaseModel):
    id: int = Field(
        description="The feed's order: events are published with increasing ids, never before an id served."
    )
    kind: FeedEventKind | str
    project_id: int | None
    summary: str
    payload: dict[str, object]
    occurred_at: datetime = Field(
        description="When it happened at its source: a change learned late is older than events before it."
    )
    recorded_at: datetime = Field(
        description="When pmbridge published it (the evaluation or the operator's action that did)."
    )


class FeedPageOut(BaseModel):
    events: list[FeedEventOut]
    next_cursor: str | None = Field(description="Pass as `after` for what comes next; repeat it to poll.")
    has_more: bool
    freshness: FreshnessOut


Rating = Annotated[int, Field(ge=1, le=5)]
Comment = Annotated[str | None, Field(max_length=4000)]
SubjectId = Annotated[int, Field(ge=1, le=2**53 - 1)]


class MilestoneFeedbackIn(RequestBody):
    subject: Literal[FeedbackSubject.MILESTONE]
    subject_id: SubjectId = Field(description="A milestone of the caller's projects.")
    rating: Rating
    comment: Comment = None


class EventFeedbackIn(RequestBody):
    subject: Literal[FeedbackSubject.EVENT]
    subject_id: SubjectId = Field(description="An event of the caller's feed.")
    rating: Rating
    comment: Comment = None


class PeriodFeedbackIn(RequestBody):
    subject: Literal[FeedbackSubject.PERIOD]
    period_start: IsoDate
    period_end: IsoDate = Field(description="Inclusive; the two dates may come in either order.")
    rating: Rating
    comment: Comment = None


FeedbackIn = Annotated[
    MilestoneFeedbackIn | EventFeedbackIn | PeriodFeedbackIn, Field(discriminator="subject")
]


class FeedbackOut(BaseModel):
    id: int
    subject: FeedbackSubject
    subject_id: int | None
    period_start: date | None
    period_end: date | None
    rating: int
    comment: str | None
    created_at: datetime
