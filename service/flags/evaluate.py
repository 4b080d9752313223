"""Evaluating one project: facts from the store, findings from the rules, flags reconciled in place,
the promise ledger rebuilt, and client feed events produced — in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.domain.enums import CommitmentOutcome, CommitmentSubject, FeedEventKind, FlagSubject
from service.domain.signals import EventDraft
from service.flags.facts import ProjectSnapshot, load_project_snapshot
from service.rules import Finding, RuleSet, evaluate_with_failures
from service.store.db import transaction
from service.store.feed_writes import publish_events
from service.store.flags import FlagValues, list_open_flags, open_flag, refresh_flag, resolve_flag
from service.store.ledger import save_commitments
from service.store.orm import FlagRow
from service.store.runtime import Store

# Past events shown when a project is first evaluated: recent history, not years of it.
FEED_HISTORY = timedelta(days=30)

FlagHook = Callable[[Session, FlagRow, datetime], None]


@dataclass(slots=True)
class EvaluationSummary:
    project_id: int
    subjects: int = 0
    findings: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    commitments: int = 0
    feed_events: int = 0
    failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "subjects": self.subjects,
            "findings": self.findings,
            "opened": self.opened,
            "updated": self.updated,
            "resolved": self.resolved,
            "commitments": self.commitments,
            "feed_events": self.feed_events,
            "failures": self.failures,
        }


def evaluate_project(
    store: Store,
    *,
    project_id: int,
    rule_set: RuleSet,
    now: datetime,
    on_flag_changed: FlagHook | None = None,
) -> EvaluationSummary:
    """`on_flag_changed` runs inside the transaction for every flag opened, changed or resolved
    (the push-back queues its comment there, so the outbox row commits with the flag)."""
    with store.sessions() as session:
        snapshot = load_project_snapshot(session, project_id=project_id, now=now)
    evaluation = evaluate_with_failures(rule_set, snapshot.all_facts, now=now)
    summary = EvaluationSummary(
        project_id=project_id,
        subjects=len(snapshot.all_facts),
        findings=len(evaluation.findings),
        failures=[f"{f.rule_id} on {f.subject_key}: {f.reason}" for f in evaluation.failures],
    )
    with transaction(store.sessions) as session:
        changed = _reconcile(session, snapshot, evaluation.findings, now=now, summary=summary)
        if on_flag_changed is not None:
            for row in changed:
                on_flag_changed(session, row, now)
        commitments = [f.commitment for f in snapshot.items if f.commitment is not None]
        save_commitments(session, source_id=snapshot.project.source_id, commitments=commitments)
        summary.commitments = len(commitments)
        summary.feed_events = publish_events(
            session, drafts=_feed_drafts(snapshot, changed, now=now), now=now
        )
    return summary


def _subjects(snapshot: ProjectSnapshot) -> list[tuple[FlagSubject, int]]:
    subjects = [(FlagSubject.ITEM, f.item.id) for f in snapshot.items if f.item.id is not None]
    subjects += [
        (FlagSubject.MILESTONE, f.milestone.id) for f in snapshot.milestones if f.milestone.id is not None
    ]
    if snapshot.project.id is not None:
        subjects.append((FlagSubject.PROJECT, snapshot.project.id))
    return subjects


def _values(finding: Finding) -> FlagValues | None:
    if finding.subject.id is None:
        return None
    return FlagValues(
        rule_id=finding.rule_id,
        subject=finding.subject.kind,
        subject_id=finding.subject.id,
        severity=finding.severity.value,
        message=finding.message,
        evidence={
            **finding.evidence,
            "push_to_jira": finding.push_to_jira,
            "client_visible": finding.client_visible,
        },
        fingerprint=finding.fingerprint,
    )


def _reconcile(
    session: Session,
    snapshot: ProjectSnapshot,
    findings: list[Finding],
    *,
    now: datetime,
    summary: EvaluationSummary,
) -> list[FlagRow]:
    """Open, refresh or resolve so that the open flags of the evaluated subjects equal the findings."""
    open_rows = {
        (r.rule_id, r.subject, r.subject_id): r
        for r in list_open_flags(session, subjects=_subjects(snapshot))
    }
    changed: list[FlagRow] = []
    seen: set[tuple[str, str, int]] = set()
    for finding in findings:
        values = _values(finding)
        if values is None:
            continue
        key = (values.rule_id, values.subject.value, values.subject_id)
        seen.add(key)
        row = open_rows.get(key)
        if row is None:
            changed.append(open_flag(session, values=values, now=now))
            summary.opened += 1
        elif refresh_flag(row, values=values, now=now):
            changed.append(row)
            summary.updated += 1
    for key, row in open_rows.items():
        if key not in seen:
            resolve_flag(row, now=now)
            changed.append(row)
            summary.resolved += 1
    session.flush()
    return changed


def _feed_drafts(
    snapshot: ProjectSnapshot, changed_flags: list[FlagRow], *, now: datetime
) -> list[EventDraft]:
    project = snapshot.project
    assert project.id is not None
    since = now - FEED_HISTORY
    today = now.date()
    drafts: list[EventDraft] = []
    for facts in snapshot.items:
        item = facts.item
        if item.id is None:
            continue
        if facts.done_at is not None and facts.done_at >= since:
            drafts.append(
                EventDraft(
                    kind=FeedEventKind.ITEM_DONE,
                    dedupe_key=f"item_done:{item.id}:{facts.done_at.isoformat()}",
                    summary=f"{item.key} done: {item.title}",
                    payload={"item": item.key, "title": item.title},
                    occurred_at=facts.done_at,
                    project_id=project.id,
                    item_id=item.id,
                )
            )
        commitment = facts.commitment
        if commitment is None:
            continue
        for move in commitment.moves:
            if move.moved_at < since or move.days == 0:
                continue
            move_ref = move.change_external_id or move.moved_at.isoformat()
            drafts.append(
                EventDraft(
                    kind=FeedEventKind.COMMITMENT_MOVED,
                    dedupe_key=f"commitment_moved:item:{item.id}:{move_ref}",
                    summary=f"{item.key}: promised date moved from {move.from_date} to {move.to_date}",
                    payload={
                        "item": item.key,
                        "from": move.from_date.isoformat() if move.from_date else None,
                        "to": move.to_date.isoformat() if move.to_date else None,
                        "days": move.days,
                    },
                    occurred_at=move.moved_at,
                    project_id=project.id,
                    item_id=item.id,
                )
            )
        outcome = commitment.outcome(today)
        deadline = commitment.current_date or commitment.baseline_date
        if outcome is CommitmentOutcome.OPEN:
            continue
        met = outcome is CommitmentOutcome.MET
        kind = FeedEventKind.COMMITMENT_MET if met else FeedEventKind.COMMITMENT_MISSED
        verdict = "met" if met else "missed"
        occurred = commitment.delivered_at or datetime.combine(
            deadline, datetime.min.time(), tzinfo=now.tzinfo
        )
        if occurred < since:
            continue
        drafts.append(
            EventDraft(
                kind=kind,
                dedupe_key=f"{kind.value}:{CommitmentSubject.ITEM.value}:{item.id}:{deadline.isoformat()}",
                summary=f"{item.key}: promise of {deadline} {verdict}",
                payload={
                    "item": item.key,
                    "promised": deadline.isoformat(),
                    "slip_days": commitment.slip_days,
                },
                occurred_at=occurred,
                project_id=project.id,
                item_id=item.id,
            )
        )
    drafts += _milestone_progress(snapshot, now=now)
    drafts += _risk_resolutions(snapshot, changed_flags, now=now)
    return drafts


def _milestone_progress(snapshot: ProjectSnapshot, *, now: datetime) -> list[EventDraft]:
    project_id = snapshot.project.id
    assert project_id is not None
    drafts = []
    for facts in snapshot.milestones:
        milestone = facts.milestone
        members = [f for f in snapshot.items if milestone.external_id in f.item.milestone_external_ids]
        if milestone.id is None or not members:
            continue
        done = sum(1 for f in members if f.item.is_done)
        drafts.append(
            EventDraft(
                kind=FeedEventKind.MILESTONE_PROGRESS,
                dedupe_key=f"milestone_progress:{milestone.id}:{done}/{len(members)}",
                summary=f"{milestone.name}: {done} of {len(members)} done",
                payload={"milestone": milestone.name, "done": done, "total": len(members)},
                occurred_at=now,
                project_id=project_id,
            )
        )
    return drafts


def _risk_resolutions(
    snapshot: ProjectSnapshot, changed: list[FlagRow], *, now: datetime
) -> list[EventDraft]:
    """A published risk that resolves tells the client; raising one is the operator's publish."""
    project_id = snapshot.project.id
    assert project_id is not None
    items = {f.item.id for f in snapshot.items}
    return [
        EventDraft(
            kind=FeedEventKind.RISK_RESOLVED,
            dedupe_key=f"risk_resolved:{row.id}",
            summary=f"Resolved: {row.client_text or row.message}",
            payload={"flag_id": row.id, "text": row.client_text},
            occurred_at=now,
            project_id=project_id,
            item_id=row.subject_id
            if row.subject == FlagSubject.ITEM.value and row.subject_id in items
            else None,
        )
        for row in changed
        if row.state == "resolved" and row.published
    ]
