"""Flags: open, update and resolve in place — at most one open flag per (rule, subject) — then what an
operator does with them (publish, keep internal, acknowledge, snooze, dismiss), the state of their
pushed comments, and each flag's history (`flag_history`: every step above, in order).

A dismissal holds for the evidence it was made on: while the rule finds the same fingerprint on
the subject, an open dismissed flag stays dismissed and a resolved one is not raised again; a new
fingerprint lifts it (the flag is `reopened`) or raises a new flag.

Every flag leaves the store as the domain `Flag`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from service.domain.enums import (
    DismissReason,
    FlagHistoryKind,
    FlagListState,
    FlagState,
    FlagSubject,
    FlagTriage,
    Severity,
    SourceKind,
)
from service.domain.signals import Flag, FlagHistoryEntry
from service.errors import NotFoundError
from service.store.orm import (
    CommitmentRow,
    FlagHistoryRow,
    FlagRow,
    ItemMilestoneRow,
    MilestoneRow,
    ProjectRow,
    SourceRow,
    WorkItemRow,
)


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
        comment_created_at=row.comment_created_at,
        triage=None if row.triage is None else FlagTriage(row.triage),
        triage_reason=None if row.triage_reason is None else DismissReason(row.triage_reason),
        triaged_by=row.triaged_by,
        triaged_at=row.triaged_at,
        snoozed_until=row.snoozed_until,
        dismissed_fingerprint=row.dismissed_fingerprint,
    )


def _note(
    session: Session,
    row: FlagRow,
    kind: FlagHistoryKind,
    *,
    at: datetime,
    by: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add a step to the flag's history (the row must have its id)."""
    session.add(FlagHistoryRow(flag_id=row.id, kind=kind.value, at=at, by=by, detail=detail or {}))


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
    # Findings not raised: a flag of the same rule and subject was dismissed for this fingerprint.
    suppressed: int = 0


def reconcile_flags(
    session: Session,
    *,
    subjects: Iterable[tuple[FlagSubject, int]],
    findings: Sequence[FlagValues],
    now: datetime,
) -> Reconciliation:
    """Open, refresh or resolve so that the open flags of the evaluated `subjects` equal `findings`.

    A finding with an open flag refreshes it in place (its evidence and `last_seen_at`); it counts as
    changed only when its fingerprint moved. An open flag without a finding resolves. A finding
    without an open flag opens one, unless a flag of its rule and subject was dismissed for the
    same fingerprint (nothing is raised: the operator said this evidence is not worth a flag).
    """
    subjects = list(subjects)
    open_rows = {(r.rule_id, r.subject, r.subject_id): r for r in _open_rows(session, subjects=subjects)}
    dismissed = _dismissed_fingerprints(session, subjects=subjects)
    open_before = tuple(_flag(row) for row in open_rows.values())
    opened = updated = resolved = suppressed = 0
    changed: list[FlagRow] = []
    seen: set[tuple[str, str, int]] = set()
    for values in findings:
        key = (values.rule_id, values.subject.value, values.subject_id)
        seen.add(key)
        row = open_rows.get(key)
        if row is None:
            if (*key, values.fingerprint) in dismissed:
                suppressed += 1
                continue
            changed.append(_open(session, values=values, now=now))
            opened += 1
        elif _refresh(session, row, values=values, now=now):
            changed.append(row)
            updated += 1
    for key, row in open_rows.items():
        if key not in seen:
            _resolve(session, row, now=now)
            changed.append(row)
            resolved += 1
    session.flush()
    return Reconciliation(
        open_before=open_before,
        changed=tuple(_flag(row) for row in changed),
        opened=opened,
        updated=updated,
        resolved=resolved,
        suppressed=suppressed,
    )


def _subject_clauses(subjects: Iterable[tuple[FlagSubject, int]]) -> list[ColumnElement[bool]]:
    by_kind: dict[FlagSubject, list[int]] = {}
    for kind, subject_id in subjects:
        by_kind.setdefault(kind, []).append(subject_id)
    return [and_(FlagRow.subject == kind.value, FlagRow.subject_id.in_(ids)) for kind, ids in by_kind.items()]


def _dismissed_fingerprints(
    session: Session, *, subjects: Iterable[tuple[FlagSubject, int]]
) -> set[tuple[str, str, int, str]]:
    """(rule, subject, subject id, fingerprint) of every dismissal on these subjects."""
    clauses = _subject_clauses(subjects)
    if not clauses:
        return set()
    rows = session.execute(
        select(FlagRow.rule_id, FlagRow.subject, FlagRow.subject_id, FlagRow.dismissed_fingerprint).where(
            FlagRow.triage == FlagTriage.DISMISSED.value,
            FlagRow.dismissed_fingerprint.is_not(None),
            or_(*clauses),
        )
    )
    return {
        (rule, subject, subject_id, fingerprint)
        for rule, subject, subject_id, fingerprint in rows
        if fingerprint is not None
    }


def _open_rows(session: Session, *, subjects: Iterable[tuple[FlagSubject, int]]) -> list[FlagRow]:
    clauses = _subject_clauses(subjects)
    if not clauses:
        return []
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
    _note(session, row, FlagHistoryKind.RAISED, at=now, detail={"fingerprint": values.fingerprint})
    return row


def _refresh(session: Session, row: FlagRow, *, values: FlagValues, now: datetime) -> bool:
    """Update an open flag's evidence in place; True when the situation changed (new fingerprint).

    A new fingerprint lifts a dismissal, which held for the evidence it was made on: the flag is
    reopened to the operator and the push-back."""
    changed = row.fingerprint != values.fingerprint
    if changed:
        _note(
            session,
            row,
            FlagHistoryKind.FINGERPRINT_CHANGED,
            at=now,
            detail={"from": row.fingerprint, "to": values.fingerprint},
        )
        if row.triage == FlagTriage.DISMISSED.value:
            _clear_triage(row)
            _note(session, row, FlagHistoryKind.REOPENED, at=now, detail={"why": "evidence changed"})
    row.severity = values.severity
    row.message = values.message
    row.evidence = values.evidence
    row.fingerprint = values.fingerprint
    row.last_seen_at = now
    return changed


def _resolve(session: Session, row: FlagRow, *, now: datetime) -> None:
    row.state = FlagState.RESOLVED.value
    row.resolved_at = now
    row.last_seen_at = now
    _note(session, row, FlagHistoryKind.RESOLVED, at=now)


def _clear_triage(row: FlagRow) -> None:
    row.triage = None
    row.triage_reason = None
    row.triaged_by = None
    row.triaged_at = None
    row.snoozed_until = None
    row.dismissed_fingerprint = None


# -- reads -----------------------------------------------------------------------------------------


def find_flag(session: Session, *, flag_id: int) -> Flag | None:
    row = session.get(FlagRow, flag_id)
    return None if row is None else _flag(row)


def get_flag(session: Session, *, flag_id: int) -> Flag:
    return _flag(_get_row(session, flag_id))


def list_flags_by_id(session: Session, *, flag_ids: Collection[int]) -> list[Flag]:
    """The flags with these ids that exist, by id."""
    if not flag_ids:
        return []
    rows = session.scalars(select(FlagRow).where(FlagRow.id.in_(list(flag_ids))).order_by(FlagRow.id))
    return [_flag(row) for row in rows]


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
    state: FlagState | FlagListState | None = None,
    published: bool | None = None,
    rule_id: str | None = None,
    severity: Severity | None = None,
    project_ids: Collection[int] | None = None,
    now: datetime | None = None,
    after_id: int = 0,
    limit: int | None = 100,
) -> list[Flag]:
    """Flags by id, after `after_id`; `limit` None lists them all.

    `state` as `FlagListState`: `open` is open and neither snoozed (until after `now`, the time
    by default) nor dismissed; `acknowledged` and `snoozed` are open flags so triaged; `dismissed`
    any dismissed flag; `resolved` any resolved one. `project_ids`: flags whose subject is in one
    of these projects (an item's or a milestone's project, or the project flagged).
    """
    query = select(FlagRow).where(FlagRow.id > after_id).order_by(FlagRow.id)
    if state is not None:
        query = query.where(_state_clause(FlagListState(state.value), now=now or datetime.now(UTC)))
    if published is not None:
        query = query.where(FlagRow.published.is_(published))
    if rule_id is not None:
        query = query.where(FlagRow.rule_id == rule_id)
    if severity is not None:
        query = query.where(FlagRow.severity == severity.value)
    if project_ids is not None:
        query = query.where(_project_of_flag().in_(list(project_ids)))
    if limit is not None:
        query = query.limit(limit)
    return [_flag(row) for row in session.scalars(query)]


def _state_clause(state: FlagListState, *, now: datetime) -> ColumnElement[bool]:
    is_open = FlagRow.state == FlagState.OPEN.value
    snoozed = and_(FlagRow.triage == FlagTriage.SNOOZED.value, FlagRow.snoozed_until > now)
    if state is FlagListState.OPEN:
        return and_(
            is_open,
            or_(
                FlagRow.triage.is_(None),
                FlagRow.triage == FlagTriage.ACKNOWLEDGED.value,
                and_(FlagRow.triage == FlagTriage.SNOOZED.value, ~snoozed),
            ),
        )
    if state is FlagListState.RESOLVED:
        return FlagRow.state == FlagState.RESOLVED.value
    if state is FlagListState.ACKNOWLEDGED:
        return and_(is_open, FlagRow.triage == FlagTriage.ACKNOWLEDGED.value)
    if state is FlagListState.SNOOZED:
        return and_(is_open, snoozed)
    return FlagRow.triage == FlagTriage.DISMISSED.value


def _project_of_flag() -> ColumnElement[int]:
    """The project of a flag's subject, as a column expression over `FlagRow`."""
    of_item = select(WorkItemRow.project_id).where(WorkItemRow.id == FlagRow.subject_id).scalar_subquery()
    of_milestone = (
        select(MilestoneRow.project_id).where(MilestoneRow.id == FlagRow.subject_id).scalar_subquery()
    )
    return case(
        (FlagRow.subject == FlagSubject.ITEM.value, of_item),
        (FlagRow.subject == FlagSubject.MILESTONE.value, of_milestone),
        else_=FlagRow.subject_id,
    )


@dataclass(frozen=True, slots=True)
class FlagLabel:
    """A flag as a label of its rule: what the operator said of it (acknowledged: right;
    dismissed: wrong, with the reason; none: not said)."""

    flag_id: int
    rule_id: str
    subject: FlagSubject
    subject_id: int
    first_seen_at: datetime
    state: FlagState
    triage: FlagTriage | None
    reason: DismissReason | None
    # The items a grouped flag names (`evidence.item_keys`) when it was triaged: a verdict on the
    # group is one on each of them.
    item_keys: tuple[str, ...] = ()


def list_flag_labels(session: Session) -> list[FlagLabel]:
    """Every flag, by id, with its triage: the labels a backtest of the rules reads."""
    rows = session.execute(
        select(
            FlagRow.id,
            FlagRow.rule_id,
            FlagRow.subject,
            FlagRow.subject_id,
            FlagRow.first_seen_at,
            FlagRow.state,
            FlagRow.triage,
            FlagRow.triage_reason,
        ).order_by(FlagRow.id)
    )
    grouped = session.execute(
        select(FlagRow.id, FlagRow.evidence).where(
            FlagRow.triage.is_not(None), FlagRow.subject != FlagSubject.ITEM.value
        )
    )
    named = {
        flag_id: tuple(str(key) for key in keys)
        for flag_id, evidence in grouped
        if isinstance(keys := (evidence or {}).get("item_keys"), list)
    }
    return [
        FlagLabel(
            flag_id=flag_id,
            rule_id=rule_id,
            subject=FlagSubject(subject),
            subject_id=subject_id,
            first_seen_at=first_seen_at,
            state=FlagState(state),
            triage=None if triage is None else FlagTriage(triage),
            reason=None if reason is None else DismissReason(reason),
            item_keys=named.get(flag_id, ()),
        )
        for flag_id, rule_id, subject, subject_id, first_seen_at, state, triage, reason in rows
    ]


def list_flag_history(session: Session, *, flag_id: int) -> list[FlagHistoryEntry]:
    """The flag's life, oldest step first; `NotFoundError` for an unknown flag."""
    _get_row(session, flag_id)
    rows = session.scalars(
        select(FlagHistoryRow).where(FlagHistoryRow.flag_id == flag_id).order_by(FlagHistoryRow.id)
    )
    return [
        FlagHistoryEntry(
            flag_id=row.flag_id, kind=FlagHistoryKind(row.kind), at=row.at, by=row.by, detail=dict(row.detail)
        )
        for row in rows
    ]


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


def count_new_comments(session: Session, *, project_id: int, since: datetime, until: datetime) -> int:
    """Flag comments first posted (or taken from the budget to be) on the project's items in
    [since, until): what its daily budget of new comments counts."""
    query = (
        select(func.count())
        .select_from(FlagRow)
        .join(WorkItemRow, WorkItemRow.id == FlagRow.subject_id)
        .where(
            FlagRow.subject == FlagSubject.ITEM.value,
            WorkItemRow.project_id == project_id,
            FlagRow.comment_created_at >= since,
            FlagRow.comment_created_at < until,
        )
    )
    return int(session.scalar(query) or 0)


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


def publish_flag(
    session: Session, *, flag_id: int, client_text: str, now: datetime, by: str | None = None
) -> Flag:
    """Show a flag to the clients who see its subject, in the operator's wording (never the rule's)."""
    row = _get_row(session, flag_id)
    row.client_text = client_text
    row.published = True
    _note(session, row, FlagHistoryKind.PUBLISHED, at=now, by=by)
    session.flush()
    return _flag(row)


def keep_flag_internal(session: Session, *, flag_id: int, now: datetime, by: str | None = None) -> Flag:
    row = _get_row(session, flag_id)
    row.published = False
    _note(session, row, FlagHistoryKind.UNPUBLISHED, at=now, by=by)
    session.flush()
    return _flag(row)


def acknowledge_flag(session: Session, *, flag_id: int, now: datetime, by: str | None = None) -> Flag:
    """Mark the flag right: it stays as it is (open flags stay open and counted)."""
    row = _get_row(session, flag_id)
    _set_triage(row, FlagTriage.ACKNOWLEDGED, now=now, by=by)
    _note(session, row, FlagHistoryKind.ACKNOWLEDGED, at=now, by=by)
    session.flush()
    return _flag(row)


def snooze_flag(
    session: Session, *, flag_id: int, until: datetime, now: datetime, by: str | None = None
) -> Flag:
    """Keep the flag open but out of the push-back and of the open listing until `until`."""
    row = _get_row(session, flag_id)
    _set_triage(row, FlagTriage.SNOOZED, now=now, by=by)
    row.snoozed_until = until
    _note(session, row, FlagHistoryKind.SNOOZED, at=now, by=by, detail={"until": until.isoformat()})
    session.flush()
    return _flag(row)


def dismiss_flag(
    session: Session, *, flag_id: int, reason: DismissReason, now: datetime, by: str | None = None
) -> Flag:
    """Dismiss the flag for the evidence it has now (its fingerprint): the rule finding the same
    again raises nothing; a new fingerprint lifts the dismissal."""
    row = _get_row(session, flag_id)
    _set_triage(row, FlagTriage.DISMISSED, now=now, by=by)
    row.triage_reason = reason.value
    row.dismissed_fingerprint = row.fingerprint
    _note(
        session,
        row,
        FlagHistoryKind.DISMISSED,
        at=now,
        by=by,
        detail={"reason": reason.value, "fingerprint": row.fingerprint},
    )
    session.flush()
    return _flag(row)


def _set_triage(row: FlagRow, triage: FlagTriage, *, now: datetime, by: str | None) -> None:
    _clear_triage(row)
    row.triage = triage.value
    row.triaged_by = by
    row.triaged_at = now


def reserve_new_comment(session: Session, *, flag_id: int, now: datetime) -> None:
    """Take the flag's first comment from its project's budget (dated `now`) before posting it."""
    session.execute(
        update(FlagRow)
        .where(FlagRow.id == flag_id, FlagRow.comment_created_at.is_(None))
        .values(comment_created_at=now)
        .execution_options(synchronize_session=False)
    )


def record_pushed_comment(
    session: Session, *, flag_id: int, comment_id: str, pushed_state: str, now: datetime
) -> None:
    """`pushed_state` is the fingerprint and state the comment now shows; a first comment not
    reserved from the budget (found again after a crash) is dated `now`."""
    session.execute(
        update(FlagRow)
        .where(FlagRow.id == flag_id)
        .values(
            pushed_comment_id=comment_id,
            pushed_fingerprint=pushed_state,
            pushed_at=now,
            comment_created_at=func.coalesce(FlagRow.comment_created_at, now),
        )
        .execution_options(synchronize_session=False)
    )


def _get_row(session: Session, flag_id: int) -> FlagRow:
    row = session.get(FlagRow, flag_id)
    if row is None:
        raise NotFoundError(f"flag {flag_id} not found", details={"flag_id": flag_id})
    return row


@dataclass(frozen=True, slots=True)
class FlagSubjectView:
    """Where a flag sits, as the operator's console names it: its subject's key, title and link, its
    project and source, and the milestone it belongs to (a milestone flag's own; an item's first)."""

    key: str
    title: str
    url: str | None
    project_id: int | None
    project_name: str
    source_id: int | None
    source_kind: SourceKind | None
    milestone_id: int | None
    milestone_name: str | None


def list_flag_subjects(session: Session, *, flags: Iterable[Flag]) -> dict[int, FlagSubjectView]:
    """Each flag's subject by flag id; a subject that is gone is named `subject:id`."""
    found: dict[int, FlagSubjectView] = {}
    for flag in flags:
        assert flag.id is not None
        found[flag.id] = _subject_view(session, flag) or FlagSubjectView(
            key=f"{flag.subject.value}:{flag.subject_id}",
            title="",
            url=None,
            project_id=None,
            project_name="",
            source_id=None,
            source_kind=None,
            milestone_id=None,
            milestone_name=None,
        )
    return found


def _subject_view(session: Session, flag: Flag) -> FlagSubjectView | None:
    milestone: MilestoneRow | None = None
    if flag.subject is FlagSubject.ITEM:
        item = session.get(WorkItemRow, flag.subject_id)
        if item is None:
            return None
        project = session.get(ProjectRow, item.project_id)
        milestone = session.scalars(
            select(MilestoneRow)
            .join(ItemMilestoneRow, ItemMilestoneRow.milestone_id == MilestoneRow.id)
            .where(ItemMilestoneRow.item_id == item.id)
            .order_by(MilestoneRow.id)
            .limit(1)
        ).first()
        key, title, url = item.key, item.title, item.url
    elif flag.subject is FlagSubject.MILESTONE:
        milestone = session.get(MilestoneRow, flag.subject_id)
        if milestone is None:
            return None
        project = session.get(ProjectRow, milestone.project_id)
        key, title, url = milestone.name, milestone.name, None
    else:
        project = session.get(ProjectRow, flag.subject_id)
        if project is None:
            return None
        key, title, url = project.key, project.name, project.url
    if project is None:
        return None
    source = session.get(SourceRow, project.source_id)
    return FlagSubjectView(
        key=key,
        title=title,
        url=url,
        project_id=project.id,
        project_name=project.name,
        source_id=project.source_id,
        source_kind=None if source is None else SourceKind(source.kind),
        milestone_id=None if milestone is None else milestone.id,
        milestone_name=None if milestone is None else milestone.name,
    )


def count_open_flags_by_project(session: Session, *, now: datetime) -> dict[tuple[int, Severity], int]:
    """Flags counted as open at `now` (neither snoozed nor dismissed), by project and severity."""
    project = _project_of_flag().label("project_id")
    rows = session.execute(
        select(project, FlagRow.severity, func.count())
        .where(_state_clause(FlagListState.OPEN, now=now))
        .group_by(project, FlagRow.severity)
    )
    return {(project_id, Severity(severity)): count for project_id, severity, count in rows if project_id}


@dataclass(frozen=True, slots=True)
class PromiseAtRisk:
    """A promise not yet delivered whose subject has flags open: the dates, and the flags."""

    commitment_id: int
    subject: str
    subject_id: int
    project_id: int
    title: str
    baseline: date
    current: date | None
    flag_ids: tuple[int, ...]
    severity: Severity


def list_promises_at_risk(session: Session, *, now: datetime) -> list[PromiseAtRisk]:
    """Undelivered promises on items and milestones that have flags counted as open at `now`,
    earliest date first."""
    rows = session.execute(
        select(CommitmentRow, FlagRow.id, FlagRow.severity)
        .join(
            FlagRow,
            and_(FlagRow.subject == CommitmentRow.subject, FlagRow.subject_id == CommitmentRow.subject_id),
        )
        .where(CommitmentRow.delivered_at.is_(None), _state_clause(FlagListState.OPEN, now=now))
        .order_by(CommitmentRow.id, FlagRow.id)
    ).all()
    grouped: dict[int, tuple[CommitmentRow, list[int], list[Severity]]] = {}
    for commitment, flag_id, severity in rows:
        entry = grouped.setdefault(commitment.id, (commitment, [], []))
        entry[1].append(flag_id)
        entry[2].append(Severity(severity))
    found: list[PromiseAtRisk] = []
    order = list(Severity)
    for commitment, flag_ids, severities in grouped.values():
        named = _commitment_subject(session, commitment)
        if named is None:
            continue
        project_id, title = named
        found.append(
            PromiseAtRisk(
                commitment_id=commitment.id,
                subject=commitment.subject,
                subject_id=commitment.subject_id,
                project_id=project_id,
                title=title,
                baseline=commitment.baseline_date,
                current=commitment.current_date,
                flag_ids=tuple(flag_ids),
                severity=max(severities, key=order.index),
            )
        )
    return sorted(found, key=lambda p: (p.current or p.baseline, p.commitment_id))


def _commitment_subject(session: Session, commitment: CommitmentRow) -> tuple[int, str] | None:
    if commitment.subject == FlagSubject.ITEM.value:
        item = session.get(WorkItemRow, commitment.subject_id)
        return None if item is None else (item.project_id, f"{item.key} {item.title}")
    milestone = session.get(MilestoneRow, commitment.subject_id)
    return None if milestone is None else (milestone.project_id, milestone.name)
