"""Flags: open, update and resolve in place — at most one open flag per (rule, subject) — then what an
operator does with them (publish, keep internal) and the state of their pushed comments.

Every flag leaves the store as the domain `Flag`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from service.domain.enums import FlagState, FlagSubject, Severity
from service.domain.signals import Flag
from service.errors import NotFoundError
from service.store.orm import FlagRow, MilestoneRow, ProjectRow, WorkItemRow


def _flag(row: FlagRow) -> Flag:
    return Flag(
        id=row.id,
        rule_id=row.rule_id,
        subject=FlagSubject(row.subject),
        subject_id=row.subject_id,
        severity=Severity(row.severity),
        state=FlagState(row.state),
        message=row.message,
        evidence=dict(row.evidence),
        fingerprint=row.fingerprint,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        resolved_at=row.resolved_at,
        client_text=row.client_text,
        published=row.published,
        pushed_comment_id=row.pushed_comment_id,
        pushed_fingerprint=row.pushed_fingerprint,
    )


# -- the evaluator's reconciliation ----------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The evaluated subjects' open flags as they were before, and the flags the evaluation opened,
    changed (new fingerprint) or resolved, in the order it met them."""

    open_before: tuple[Flag, ...]
    changed: tuple[Flag, ...]
    opened: int
    updated: int
    resolved: int


def reconcile_flags(
    session: Session,
    *,
    subjects: Iterable[tuple[FlagSubject, int]],
    findings: Sequence[FlagValues],
    now: datetime,
) -> Reconciliation:
    """Open, refresh or resolve so that the open flags of the evaluated `subjects` equal `findings`.

    A finding with an open flag refreshes it in place (its evidence and `last_seen_at`); it counts as
    changed only when its fingerprint moved. An open flag without a finding resolves.
    """
    open_rows = {(r.rule_id, r.subject, r.subject_id): r for r in _open_rows(session, subjects=subjects)}
    open_before = tuple(_flag(row) for row in open_rows.values())
    opened = updated = resolved = 0
    changed: list[FlagRow] = []
    seen: set[tuple[str, str, int]] = set()
    for values in findings:
        key = (values.rule_id, values.subject.value, values.subject_id)
        seen.add(key)
        row = open_rows.get(key)
        if row is None:
            changed.append(_open(session, values=values, now=now))
            opened += 1
        elif _refresh(row, values=values, now=now):
            changed.append(row)
            updated += 1
    for key, row in open_rows.items():
        if key not in seen:
            _resolve(row, now=now)
            changed.append(row)
            resolved += 1
    session.flush()
    return Reconciliation(
        open_before=open_before,
        changed=tuple(_flag(row) for row in changed),
        opened=opened,
        updated=updated,
        resolved=resolved,
    )


def _open_rows(session: Session, *, subjects: Iterable[tuple[FlagSubject, int]]) -> list[FlagRow]:
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


def _open(session: Session, *, values: FlagValues, now: datetime) -> FlagRow:
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


def _refresh(row: FlagRow, *, values: FlagValues, now: datetime) -> bool:
    """Update an open flag's evidence in place; True when the situation changed (new fingerprint)."""
    changed = row.fingerprint != values.fingerprint
    row.severity = values.severity
    row.message = values.message
    row.evidence = values.evidence
    row.fingerprint = values.fingerprint
    row.last_seen_at = now
    return changed


def _resolve(row: FlagRow, *, now: datetime) -> None:
    row.state = FlagState.RESOLVED.value
    row.resolved_at = now
    row.last_seen_at = now


# -- reads -----------------------------------------------------------------------------------------


def find_flag(session: Session, *, flag_id: int) -> Flag | None:
    row = session.get(FlagRow, flag_id)
    return None if row is None else _flag(row)


def get_flag(session: Session, *, flag_id: int) -> Flag:
    return _flag(_get_row(session, flag_id))


def find_flag_project_id(session: Session, *, flag: Flag) -> int | None:
    """The project of a flag's subject (an item's, a milestone's, or the project flagged); None when
    the subject is gone."""
    if flag.subject is FlagSubject.ITEM:
        return session.scalar(select(WorkItemRow.project_id).where(WorkItemRow.id == flag.subject_id))
    if flag.subject is FlagSubject.MILESTONE:
        return session.scalar(select(MilestoneRow.project_id).where(MilestoneRow.id == flag.subject_id))
    return session.scalar(select(ProjectRow.id).where(ProjectRow.id == flag.subject_id))


def list_flags(
    session: Session,
    *,
    state: FlagState | None = None,
    published: bool | None = None,
    after_id: int = 0,
    limit: int | None = 100,
) -> list[Flag]:
    """Flags by id, after `after_id`; `limit` None lists them all."""
    query = select(FlagRow).where(FlagRow.id > after_id).order_by(FlagRow.id)
    if state is not None:
        query = query.where(FlagRow.state == state.value)
    if published is not None:
        query = query.where(FlagRow.published.is_(published))
    if limit is not None:
        query = query.limit(limit)
    return [_flag(row) for row in session.scalars(query)]


def list_open_item_flags(session: Session, *, project_id: int) -> list[Flag]:
    rows = session.scalars(
        select(FlagRow)
        .join(WorkItemRow, WorkItemRow.id == FlagRow.subject_id)
        .where(
            FlagRow.subject == FlagSubject.ITEM.value,
            FlagRow.state == FlagState.OPEN.value,
            WorkItemRow.project_id == project_id,
        )
        .order_by(FlagRow.id)
    )
    return [_flag(row) for row in rows]


def list_subject_keys(session: Session, *, flags: Iterable[Flag]) -> dict[int, str]:
    """The provider key of each flag's subject by flag id: the Jira key or Trello card of an item, a
    milestone's name, a project's key; `subject:id` when the subject is gone."""
    keys: dict[int, str] = {}
    for flag in flags:
        assert flag.id is not None
        key: str | None = None
        if flag.subject is FlagSubject.ITEM:
            item = session.get(WorkItemRow, flag.subject_id)
            key = None if item is None else item.key
        elif flag.subject is FlagSubject.MILESTONE:
            milestone = session.get(MilestoneRow, flag.subject_id)
            key = None if milestone is None else milestone.name
        else:
            project = session.get(ProjectRow, flag.subject_id)
            key = None if project is None else project.key
        keys[flag.id] = key if key is not None else f"{flag.subject.value}:{flag.subject_id}"
    return keys


@dataclass(frozen=True, slots=True)
class PushedItemFlag:
    """A flag whose comment is on the provider, with the item (issue or card) the comment is on."""

    flag: Flag
    item_external_id: str


def list_pushed_item_flags(session: Session, *, source_id: int) -> list[PushedItemFlag]:
    """The source's item flags whose comment was posted, by flag id."""
    rows = session.execute(
        select(FlagRow, WorkItemRow.external_id)
        .join(WorkItemRow, WorkItemRow.id == FlagRow.subject_id)
        .where(
            FlagRow.subject == FlagSubject.ITEM.value,
            FlagRow.pushed_comment_id.is_not(None),
            WorkItemRow.source_id == source_id,
        )
        .order_by(FlagRow.id)
    )
    return [PushedItemFlag(flag=_flag(row), item_external_id=external_id) for row, external_id in rows]


def count_pushed_flags(session: Session) -> int:
    """Flags whose comment was posted on the provider."""
    query = select(func.count()).select_from(FlagRow).where(FlagRow.pushed_comment_id.is_not(None))
    return int(session.scalar(query) or 0)


def count_flags_by_state_severity(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(FlagRow.state, FlagRow.severity, func.count()).group_by(FlagRow.state, FlagRow.severity)
    )
    return {(state, severity): count for state, severity, count in rows}


# -- the operator's and the push-back's writes ------------------------------------------------------


def publish_flag(session: Session, *, flag_id: int, client_text: str) -> Flag:
    """Show a flag to the clients who see its subject, in the operator's wording (never the rule's)."""
    row = _get_row(session, flag_id)
    row.client_text = client_text
    row.published = True
    session.flush()
    return _flag(row)


def keep_flag_internal(session: Session, *, flag_id: int) -> Flag:
    row = _get_row(session, flag_id)
    row.published = False
    session.flush()
    return _flag(row)


def record_pushed_comment(
    session: Session, *, flag_id: int, comment_id: str, pushed_state: str, now: datetime
) -> None:
    """`pushed_state` is the fingerprint and state the comment now shows."""
    session.execute(
        update(FlagRow)
        .where(FlagRow.id == flag_id)
        .values(pushed_comment_id=comment_id, pushed_fingerprint=pushed_state, pushed_at=now)
        .execution_options(synchronize_session=False)
    )


def _get_row(session: Session, flag_id: int) -> FlagRow:
    row = session.get(FlagRow, flag_id)
    if row is None:
        raise NotFoundError(f"flag {flag_id} not found", details={"flag_id": flag_id})
    return row
