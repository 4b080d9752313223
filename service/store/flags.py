"""Flags: open, update and resolve in place — at most one open flag per (rule, subject)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.domain.enums import FlagState, FlagSubject
from service.store.orm import FlagRow, MilestoneRow, ProjectRow, WorkItemRow


@dataclass(frozen=True, slots=True)
class FlagValues:
    """What a finding says about its subject, as a flag stores it."""

    rule_id: str
    subject: FlagSubject
    subject_id: int
    severity: str
    message: str
    evidence: dict[str, Any]
    fingerprint: str


def list_open_flags(session: Session, *, subjects: Iterable[tuple[FlagSubject, int]]) -> list[FlagRow]:
    """Open flags of the given subjects (the ones an evaluation covered)."""
    by_kind: dict[FlagSubject, list[int]] = {}
    for kind, subject_id in subjects:
        by_kind.setdefault(kind, []).append(subject_id)
    if not by_kind:
        return []
    clauses = [
        and_(FlagRow.subject == kind.value, FlagRow.subject_id.in_(ids)) for kind, ids in by_kind.items()
    ]
    return list(
        session.scalars(
            select(FlagRow).where(FlagRow.state == FlagState.OPEN.value, or_(*clauses)).order_by(FlagRow.id)
        )
    )


def open_flag(session: Session, *, values: FlagValues, now: datetime) -> FlagRow:
    row = FlagRow(
        rule_id=values.rule_id,
        subject=values.subject.value,
        subject_id=values.subject_id,
        severity=values.severity,
        state=FlagState.OPEN.value,
        message=values.message,
        evidence=values.evidence,
        fingerprint=values.fingerprint,
        first_seen_at=now,
        last_seen_at=now,
        published=False,
    )
    session.add(row)
    session.flush()
    return row


def refresh_flag(row: FlagRow, *, values: FlagValues, now: datetime) -> bool:
    """Update an open flag's evidence in place; True when the situation changed (new fingerprint)."""
    changed = row.fingerprint != values.fingerprint
    row.severity = values.severity
    row.message = values.message
    row.evidence = values.evidence
    row.fingerprint = values.fingerprint
    row.last_seen_at = now
    return changed


def resolve_flag(row: FlagRow, *, now: datetime) -> None:
    row.state = FlagState.RESOLVED.value
    row.resolved_at = now
    row.last_seen_at = now


def get_flag(session: Session, *, flag_id: int) -> FlagRow | None:
    return session.get(FlagRow, flag_id)


@dataclass(frozen=True, slots=True)
class FlagListing:
    row: FlagRow
    subject_key: str
    source_id: int
    project_id: int


def list_flags(session: Session, *, state: FlagState | None = FlagState.OPEN) -> list[FlagListing]:
    """Flags with the provider key of their subject (Jira key, Trello card, milestone, project key)."""
    query = select(FlagRow).order_by(FlagRow.id)
    if state is not None:
        query = query.where(FlagRow.state == state.value)
    rows = list(session.scalars(query))
    return [_listing(session, row) for row in rows]


def _listing(session: Session, row: FlagRow) -> FlagListing:
    if row.subject == FlagSubject.ITEM.value:
        item = session.get(WorkItemRow, row.subject_id)
        if item is not None:
            return FlagListing(
                row=row, subject_key=item.key, source_id=item.source_id, project_id=item.project_id
            )
    elif row.subject == FlagSubject.MILESTONE.value:
        milestone = session.get(MilestoneRow, row.subject_id)
        if milestone is not None:
            return FlagListing(
                row=row,
                subject_key=milestone.name,
                source_id=milestone.source_id,
                project_id=milestone.project_id,
            )
    else:
        project = session.get(ProjectRow, row.subject_id)
        if project is not None:
            return FlagListing(
                row=row, subject_key=project.key, source_id=project.source_id, project_id=project.id
            )
    return FlagListing(row=row, subject_key=f"{row.subject}:{row.subject_id}", source_id=0, project_id=0)
