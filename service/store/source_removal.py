"""Removing a source with everything that hangs off it: counted first (`count_source_removal`), then
deleted in one transaction (`delete_source`), kind by kind, by the same conditions, so the count is
what the removal does.

What goes: the source; its projects, items, milestones, their memberships, changes, worklogs and
activity, the milestones' observed date moves, people, sync cursors, runs and lease, webhook
deliveries and outbox rows; the flags and commitments (with their moves) whose subject is one of its
items, milestones or projects; the client scopes granting its projects. Flags and commitments name
their subject by kind and id, without a foreign key, so they are deleted here by subject: nothing of
the source is left to attach to a later row.

The client's published history (docs/ARCHITECTURE.md, "Removing a source"): a feed event of a
removed project that the client still sees stays in its feed as the record of what it was told,
with its links to removed rows — `project_id` and every `*_id` of its payload — set to null; one
the client no longer sees (the project had left its scope) is withdrawn, since keeping it would
show it again. Feedback is the client's own word and stays; a rating of a removed milestone or of
a withdrawn event loses its subject id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from service.domain.enums import CommitmentSubject, FeedbackSubject, FlagSubject
from service.errors import NotFoundError
from service.store.base import Base
from service.store.dialect import table_of
from service.store.orm import (
    ActivityRow,
    ChangeRow,
    ClientScopeRow,
    CommitmentMoveRow,
    CommitmentRow,
    FeedbackRow,
    FeedEventRow,
    FlagRow,
    InboxRow,
    ItemMilestoneRow,
    MilestoneChangeRow,
    MilestoneRow,
    OutboxRow,
    PersonRow,
    ProjectRow,
    SourceRow,
    SyncCursorRow,
    SyncLeaseRow,
    SyncRunRow,
    WorkItemRow,
    WorklogRow,
)


@dataclass(frozen=True, slots=True)
class SourceRemoval:
    """What removing a source deletes, kind by kind, and what it does to the clients' history."""

    source_id: int
    name: str
    projects: int
    items: int
    milestones: int
    milestone_changes: int
    item_milestones: int
    changes: int
    worklogs: int
    persons: int
    commitments: int
    commitment_moves: int
    flags: int
    pushed_comments: int
    outbox: int
    client_scopes: int
    sync_cursors: int
    sync_runs: int
    sync_leases: int
    webhook_deliveries: int
    activity: int
    feed_events_withdrawn: int
    feed_events_kept: int
    feedback_unlinked: int


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    model: type[Base]
    where: ColumnElement[bool]


class _Subjects:
    """The source's projects, items and milestones, as subqueries."""

    def __init__(self, source_id: int) -> None:
        self.projects = select(ProjectRow.id).where(ProjectRow.source_id == source_id)
        self.items = select(WorkItemRow.id).where(WorkItemRow.source_id == source_id)
        self.milestones = select(MilestoneRow.id).where(MilestoneRow.source_id == source_id)


def _flags_of(subjects: _Subjects) -> ColumnElement[bool]:
    return or_(
        and_(FlagRow.subject == FlagSubject.ITEM.value, FlagRow.subject_id.in_(subjects.items)),
        and_(FlagRow.subject == FlagSubject.MILESTONE.value, FlagRow.subject_id.in_(subjects.milestones)),
        and_(FlagRow.subject == FlagSubject.PROJECT.value, FlagRow.subject_id.in_(subjects.projects)),
    )


def _commitments_of(subjects: _Subjects) -> ColumnElement[bool]:
    return or_(
        and_(
            CommitmentRow.subject == CommitmentSubject.ITEM.value,
            CommitmentRow.subject_id.in_(subjects.items),
        ),
        and_(
            CommitmentRow.subject == CommitmentSubject.MILESTONE.value,
            CommitmentRow.subject_id.in_(subjects.milestones),
        ),
    )


def _client_still_sees(event: type[FeedEventRow]) -> ColumnElement[bool]:
    return exists().where(
        ClientScopeRow.client_id == event.client_id, ClientScopeRow.project_id == event.project_id
    )


def _events_of(subjects: _Subjects, *, kept: bool) -> ColumnElement[bool]:
    sees = _client_still_sees(FeedEventRow)
    return and_(FeedEventRow.project_id.in_(subjects.projects), sees if kept else ~sees)


def _feedback_of(subjects: _Subjects) -> ColumnElement[bool]:
    withdrawn = select(FeedEventRow.id).where(_events_of(subjects, kept=False))
    return or_(
        and_(
            FeedbackRow.subject == FeedbackSubject.MILESTONE.value,
            FeedbackRow.subject_id.in_(subjects.milestones),
        ),
        and_(FeedbackRow.subject == FeedbackSubject.EVENT.value, FeedbackRow.subject_id.in_(withdrawn)),
    )


def _deleted_kinds(source_id: int, subjects: _Subjects) -> list[_Kind]:
    """Every kind the removal deletes, in an order that deletes what refers to a row before the row."""
    commitments = select(CommitmentRow.id).where(_commitments_of(subjects))
    return [
        _Kind("feed_events_withdrawn", FeedEventRow, _events_of(subjects, kept=False)),
        _Kind("commitment_moves", CommitmentMoveRow, CommitmentMoveRow.commitment_id.in_(commitments)),
        _Kind("commitments", CommitmentRow, _commitments_of(subjects)),
        _Kind("outbox", OutboxRow, OutboxRow.source_id == source_id),
        _Kind("flags", FlagRow, _flags_of(subjects)),
        _Kind("client_scopes", ClientScopeRow, ClientScopeRow.project_id.in_(subjects.projects)),
        _Kind(
            "item_milestones",
            ItemMilestoneRow,
            or_(
                ItemMilestoneRow.item_id.in_(subjects.items),
                ItemMilestoneRow.milestone_id.in_(subjects.milestones),
            ),
        ),
        _Kind("activity", ActivityRow, ActivityRow.source_id == source_id),
        _Kind("changes", ChangeRow, ChangeRow.source_id == source_id),
        _Kind("worklogs", WorklogRow, WorklogRow.source_id == source_id),
        _Kind("items", WorkItemRow, WorkItemRow.source_id == source_id),
        _Kind(
            "milestone_changes",
            MilestoneChangeRow,
            MilestoneChangeRow.milestone_id.in_(subjects.milestones),
        ),
        _Kind("milestones", MilestoneRow, MilestoneRow.source_id == source_id),
        _Kind("persons", PersonRow, PersonRow.source_id == source_id),
        _Kind("projects", ProjectRow, ProjectRow.source_id == source_id),
        _Kind("sync_cursors", SyncCursorRow, SyncCursorRow.source_id == source_id),
        _Kind("sync_runs", SyncRunRow, SyncRunRow.source_id == source_id),
        _Kind("sync_leases", SyncLeaseRow, SyncLeaseRow.source_id == source_id),
        _Kind("webhook_deliveries", InboxRow, InboxRow.source_id == source_id),
    ]


def _count(session: Session, model: type[Base], where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(table_of(model)).where(where)) or 0)


def _pushed_comments(subjects: _Subjects) -> ColumnElement[bool]:
    return and_(_flags_of(subjects), FlagRow.pushed_comment_id.is_not(None))


def _source_name(session: Session, source_id: int, *, lock: bool = False) -> str:
    query = select(SourceRow.name).where(SourceRow.id == source_id)
    # On PostgreSQL a sync's writes name the source row (a foreign key's share lock): locking it
    # waits for a batch in flight and holds the next one off until the removal commits. SQLite
    # writers take turns anyway, and SQLAlchemy leaves FOR UPDATE out there.
    name = session.scalar(query.with_for_update() if lock else query)
    if name is None:
        raise NotFoundError(f"source {source_id} not found", details={"source_id": source_id})
    return name


def count_source_removal(session: Session, *, source_id: int) -> SourceRemoval:
    """What `delete_source` would delete now, without deleting anything."""
    name = _source_name(session, source_id)
    subjects = _Subjects(source_id)
    counts = {
        kind.name: _count(session, kind.model, kind.where) for kind in _deleted_kinds(source_id, subjects)
    }
    return SourceRemoval(
        source_id=source_id,
        name=name,
        pushed_comments=_count(session, FlagRow, _pushed_comments(subjects)),
        feed_events_kept=_count(session, FeedEventRow, _events_of(subjects, kept=True)),
        feedback_unlinked=_count(session, FeedbackRow, _feedback_of(subjects)),
        **counts,
    )


def delete_source(session: Session, *, source_id: int) -> SourceRemoval:
    """Remove the source with everything of it (the module docstring says what, and what stays of
    the clients' history); returns what was removed."""
    name = _source_name(session, source_id, lock=True)
    subjects = _Subjects(source_id)
    pushed_comments = _count(session, FlagRow, _pushed_comments(subjects))
    feedback_unlinked = _unlink_feedback(session, subjects)
    feed_events_kept = _detach_kept_events(session, subjects)
    counts = {
        kind.name: _delete(session, kind.model, kind.where) for kind in _deleted_kinds(source_id, subjects)
    }
    session.execute(delete(SourceRow).where(SourceRow.id == source_id))
    session.expire_all()
    return SourceRemoval(
        source_id=source_id,
        name=name,
        pushed_comments=pushed_comments,
        feed_events_kept=feed_events_kept,
        feedback_unlinked=feedback_unlinked,
        **counts,
    )


def _delete(session: Session, model: type[Base], where: ColumnElement[bool]) -> int:
    result = session.execute(delete(table_of(model)).where(where))
    return int(getattr(result, "rowcount", 0) or 0)


def _unlink_feedback(session: Session, subjects: _Subjects) -> int:
    result = session.execute(
        update(table_of(FeedbackRow)).where(_feedback_of(subjects)).values(subject_id=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _detach_kept_events(session: Session, subjects: _Subjects) -> int:
    """Null the links of the events that stay: the row's project, item and milestone, and the
    payload's ids, in the stored document (what a feed page serves) as in the columns."""
    kept: Select[tuple[int, dict[str, Any], str]] = select(
        FeedEventRow.id, FeedEventRow.payload, FeedEventRow.document
    ).where(_events_of(subjects, kept=True))
    rows = [
        {
            "event_id": event_id,
            "new_payload": _unlinked(payload),
            "new_document": _unlinked_document(document),
        }
        for event_id, payload, document in session.execute(kept)
    ]
    if rows:
        table = table_of(FeedEventRow)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("event_id"))
            .values(
                project_id=None,
                item_id=None,
                milestone_id=None,
                payload=bindparam("new_payload"),
                document=bindparam("new_document"),
            ),
            rows,
        )
    return len(rows)


def _unlinked(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: None if key.endswith("_id") else value for key, value in payload.items()}


def _unlinked_document(document: str) -> str:
    parsed = orjson.loads(document)
    parsed["project_id"] = None
    parsed["payload"] = _unlinked(parsed.get("payload") or {})
    return orjson.dumps(parsed).decode()
