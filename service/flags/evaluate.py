"""Evaluating one project: facts from the store, findings from the rules, flags reconciled in place,
the promise ledger rebuilt, and client feed events published — in one transaction.

The events themselves are derived in `service.feed.derive` from the project as evaluated and the
flags open before and after; this module only gathers that state and hands the drafts to the store.
`backfill_client_feed` derives them the same way for one client whose scope just changed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.domain.enums import FlagState, FlagSubject
from service.domain.signals import Flag
from service.feed.derive import ItemState, ProjectState, derive_events, risk_of
from service.flags.facts import ProjectSnapshot, load_project_snapshot
from service.rules import Finding, RuleSet, evaluate_with_failures
from service.store.db import Session, transaction
from service.store.feed_writes import delete_progress_events, lock_feed_writes, publish_events
from service.store.flags import FlagValues, Reconciliation, reconcile_flags
from service.store.ledger import save_commitments
from service.store.runtime import Store

FlagHook = Callable[[Session, Flag, datetime], None]


@dataclass(slots=True)
class EvaluationSummary:
    project_id: int
    subjects: int = 0
    findings: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    suppressed: int = 0
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
            "suppressed": self.suppressed,
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
        reconciled = _reconcile(session, snapshot, evaluation.findings, now=now, summary=summary)
        if on_flag_changed is not None:
            for flag in reconciled.changed:
                on_flag_changed(session, flag, now)
        commitments = [f.commitment for f in snapshot.items if f.commitment is not None]
        commitments += [f.commitment for f in snapshot.milestones if f.commitment is not None]
        save_commitments(session, source_id=snapshot.project.source_id, commitments=commitments)
        summary.commitments = len(commitments)
        drafts = derive_events(
            [risk_of(flag) for flag in reconciled.open_before],
            _state_after(snapshot, reconciled.open_before, reconciled.changed),
            now=now,
        )
        if drafts:
            lock_feed_writes(session)
        summary.feed_events = publish_events(session, drafts=drafts, now=now, projects=(project_id,))
    return summary


def backfill_client_feed(store: Store, *, client_id: int, project_id: int, now: datetime) -> int:
    """Tell one client what the project's feed already holds, at once: the drafts an evaluation
    would derive from the project as stored now (items done or reopened, promises moved, met, missed
    or reopened within the feed's history, milestone progress), fanned out to this client alone,
    with its events about what it no longer sees withdrawn. The progress it was told over its scope
    as it was before is forgotten, so every count it reads is over its scope now. Returns how many
    events were new.

    Run synchronously when a client is given a project or its scope of one changes, rather than as
    an evaluation job: everything else the client reads (projects, progress, commitments, risks)
    is read through its scope at request time, so the feed is all a new scope lacks, and this needs
    only the project's stored state (the read an evaluation starts with), no rules and no flag
    writes. So it cannot race the runner's evaluations, and the answer to the scope change comes
    after the client's feed is filled. Risks are not told again: the client reads the open ones it
    may see (`/v1/risks`), and its feed tells of risks published or resolved from now on.
    """
    with store.sessions() as session:
        snapshot = load_project_snapshot(session, project_id=project_id, now=now)
    drafts = derive_events((), _state_after(snapshot, (), ()), now=now)
    with transaction(store.sessions) as session:
        if drafts:
            lock_feed_writes(session)
        delete_progress_events(session, client_id=client_id, project_id=project_id)
        return publish_events(session, drafts=drafts, now=now, projects=(project_id,), client_id=client_id)


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
) -> Reconciliation:
    """Open, refresh or resolve so that the open flags of the evaluated subjects equal the findings."""
    reconciled = reconcile_flags(
        session,
        subjects=_subjects(snapshot),
        findings=[values for values in map(_values, findings) if values is not None],
        now=now,
    )
    summary.opened += reconciled.opened
    summary.updated += reconciled.updated
    summary.resolved += reconciled.resolved
    summary.suppressed += reconciled.suppressed
    return reconciled


def _state_after(
    snapshot: ProjectSnapshot, open_before: Sequence[Flag], changed: Sequence[Flag]
) -> ProjectState:
    """The project as evaluated, with the flags open on its subjects once reconciled."""
    project_id = snapshot.project.id
    assert project_id is not None
    flags = {flag.id: flag for flag in (*open_before, *changed)}
    return ProjectState(
        project_id=project_id,
        items=[
            ItemState(item=f.item, done_at=f.done_at, commitment=f.commitment, reopenings=f.reopenings)
            for f in snapshot.items
        ],
        milestones=[f.milestone for f in snapshot.milestones],
        open_risks=[risk_of(flag) for flag in flags.values() if flag.state is FlagState.OPEN],
        milestone_commitments=[f.commitment for f in snapshot.milestones if f.commitment is not None],
    )
