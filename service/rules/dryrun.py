"""Dry run: replay stored history instant by instant and report what a rule set would have flagged.

At each instant every item is reconstructed from its changelog (its activity up to the instant is its
activity then), milestones and projects are
summed up from those items, and the rule set is evaluated as if it were that moment. The report
says, per rule and subject, when it would first have been flagged, for how long, and when it
would have resolved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.domain.enums import FlagSubject
from service.domain.ledger import build_milestone_commitment, change_dates, order_changes
from service.domain.work import Activity, Change, Milestone, Project, WorkItem
from service.rules.aggregate import (
    build_milestone_facts,
    build_project_facts,
    sprint_closes,
    team_throughput,
)
from service.rules.engine import evaluate
from service.rules.facts import Facts, FactsConfig, ItemFacts, MilestoneFacts
from service.rules.findings import Finding, SubjectRef
from service.rules.history import build_item_facts_as_of
from service.rules.ruleset import RuleSet

MILESTONE_PROMISE_FIELD = "releaseDate"
Identity = tuple[str, FlagSubject, int, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemHistory:
    item: WorkItem  # as stored now
    changes: tuple[Change, ...]
    activity: tuple[Activity, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MilestoneHistory:
    milestone: Milestone  # as stored now
    created_at: datetime  # when pmbridge first saw it, if the provider does not say
    changes: tuple[Change, ...] = ()  # observed due-date changes, field MILESTONE_PROMISE_FIELD


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectHistory:
    project: Project
    items: tuple[ItemHistory, ...]
    milestones: tuple[MilestoneHistory, ...] = ()
    config: FactsConfig = field(default_factory=FactsConfig)


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRunHit:
    rule_id: str
    subject: SubjectRef
    first_flagged_at: datetime
    last_flagged_at: datetime
    instants_flagged: int
    # The first replayed instant after the last flag without it; None while still flagged at the end.
    resolved_at: datetime | None
    first_finding: Finding


def replay_instants(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    at = start
    while at <= end:
        yield at
        at += step


def milestone_as_of(history: MilestoneHistory, as_of: datetime) -> Milestone | None:
    """The milestone at `as_of` (None before it existed): its date then, not yet completed."""
    if history.created_at > as_of:
        return None
    m = history.milestone
    due = m.due_date
    for change in reversed(order_changes(history.changes)):
        if change.changed_at > as_of and change.field.casefold() == MILESTONE_PROMISE_FIELD.casefold():
            due = change_dates(change)[0]
    if m.started_at is not None and m.started_at > as_of:
        # A sprint not started yet was a future one.
        m = dataclasses.replace(m, started_at=None, state="future")
    if m.completed_at is not None:
        done = m.completed_at <= as_of
        state = m.state if done or m.state != "closed" else "active"
        return dataclasses.replace(
            m,
            due_date=due,
            completed_at=m.completed_at if done else None,
            released=m.released and done,
            state=state,
        )
    # Released with no recorded time: Jira sets the release date to the day of release.
    released = m.released and due is not None and due <= as_of.date()
    return dataclasses.replace(m, due_date=due, released=released)


def facts_as_of(history: ProjectHistory, as_of: datetime) -> list[Facts]:
    """Item, milestone and project facts of one project as they stood at `as_of`."""
    items: list[ItemFacts] = []
    for entry in history.items:
        facts = build_item_facts_as_of(
            entry.item, entry.changes, as_of, activity=entry.activity, config=history.config
        )
        if facts is not None:
            items.append(facts)
    pace = team_throughput(items, as_of=as_of)
    then = [(recorded, milestone_as_of(recorded, as_of)) for recorded in history.milestones]
    closes = sprint_closes(m for _, m in then if m is not None)
    milestones: list[MilestoneFacts] = []
    for recorded, milestone in then:
        if milestone is None:
            continue
        past = [c for c in recorded.changes if c.changed_at <= as_of]
        commitment = build_milestone_commitment(
            milestone, past, created_at=recorded.created_at, promise_field=MILESTONE_PROMISE_FIELD
        )
        milestones.append(
            build_milestone_facts(
                milestone, items, commitment=commitment, as_of=as_of, sprint_closes=closes, throughput=pace
            )
        )
    project = build_project_facts(history.project, items, milestones, as_of=as_of, throughput=pace)
    return [*items, *milestones, project]


def dry_run(
    rule_set: RuleSet,
    projects: Sequence[ProjectHistory],
    *,
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(days=1),
    rule_ids: Collection[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[DryRunHit]:
    """What `rule_set` would have flagged between `start` and `end`, replayed every `step`;
    `progress(done, total)` is told after each instant."""
    first: dict[Identity, Finding] = {}
    last: dict[Identity, datetime] = {}
    count: dict[Identity, int] = {}
    resolved: dict[Identity, datetime | None] = {}
    instants = list(replay_instants(start, end, step))
    for done, at in enumerate(instants, start=1):
        batch = [f for project in projects for f in facts_as_of(project, at)]
        flagged: set[Identity] = set()
        for finding in evaluate(rule_set, batch, now=at):
            if rule_ids is not None and finding.rule_id not in rule_ids:
                continue
            identity = finding.identity
            flagged.add(identity)
            first.setdefault(identity, finding)
            last[identity] = at
            count[identity] = count.get(identity, 0) + 1
            resolved[identity] = None
        for identity in first.keys() - flagged:
            if resolved.get(identity) is None:
                resolved[identity] = at
        if progress is not None:
            progress(done, len(instants))
    hits = [
        DryRunHit(
            rule_id=finding.rule_id,
            subject=finding.subject,
            first_flagged_at=finding.observed_at,
            last_flagged_at=last[identity],
            instants_flagged=count[identity],
            resolved_at=resolved.get(identity),
            first_finding=finding,
        )
        for identity, finding in first.items()
    ]
    hits.sort(key=lambda h: (h.first_flagged_at, h.subject.kind.value, h.subject.key, h.rule_id))
    return hits
