"""Dry run: replay stored history instant by instant and report what a rule set would have flagged.

At each instant every item is reconstructed from its changelog (its activity up to the instant is its
activity then), milestones and projects are
summed up from those items, and the rule set is evaluated as if it were that moment. The report
says, per rule and subject, when it would first have been flagged, for how long, and when it
would have resolved.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.domain.enums import FlagSubject
from service.domain.ledger import (
    MILESTONE_PROMISE_FIELD,
    build_milestone_commitment,
    change_dates,
    order_changes,
)
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


class ItemFactsCache:
    """Item facts of a replay kept from one instant to the next while nothing of the item happens.

    An item's facts at an instant depend only on what of it happened by then: its creation, its
    changes, its activity and its resolution. Between two of those moments they are the same but
    for the instant they are taken at, so a replay that moves forward rebuilds only the items with
    something new, a small share of them each day. Kept facts keep the `as_of` they were built at
    (nothing about the item changed since): the evidence's `as_of` says when the facts were last
    new, and no rule reads it.
    """

    def __init__(self) -> None:
        self._moments: dict[tuple[int, str], list[datetime]] = {}
        self._kept: dict[tuple[int, str], tuple[datetime, datetime | None, ItemFacts | None]] = {}

    def _moments_of(self, key: tuple[int, str], entry: ItemHistory) -> list[datetime]:
        moments = self._moments.get(key)
        if moments is None:
            item = entry.item
            found = {item.created_at, *(c.changed_at for c in entry.changes)}
            for done in entry.activity:
                found.update((done.created_at, done.updated_at))
            if item.resolved_at is not None:
                found.add(item.resolved_at)
            moments = self._moments[key] = sorted(found)
        return moments

    def facts(self, entry: ItemHistory, as_of: datetime, config: FactsConfig) -> ItemFacts | None:
        key = (entry.item.source_id, entry.item.external_id)
        kept = self._kept.get(key)
        if kept is not None:
            taken_at, valid_until, facts = kept
            if taken_at <= as_of and (valid_until is None or as_of < valid_until):
                return facts
        facts = build_item_facts_as_of(
            entry.item, entry.changes, as_of, activity=entry.activity, config=config
        )
        moments = self._moments_of(key, entry)
        after = bisect.bisect_right(moments, as_of)
        self._kept[key] = (as_of, moments[after] if after < len(moments) else None, facts)
        return facts


def facts_as_of(
    history: ProjectHistory, as_of: datetime, *, cache: ItemFactsCache | None = None
) -> list[Facts]:
    """Item, milestone and project facts of one project as they stood at `as_of`; a replay moving
    forward passes one `cache` for all its instants."""
    items: list[ItemFacts] = []
    for entry in history.items:
        if cache is not None:
            facts = cache.facts(entry, as_of, history.config)
        else:
            facts = build_item_facts_as_of(
                entry.item, entry.changes, as_of, activity=entry.activity, config=history.config
            )
        if facts is not None:
            items.append(facts)
    pace = team_throughput(items, as_of=as_of)
    members: dict[str, list[ItemFacts]] = defaultdict(list)
    for facts in items:
        for external_id in facts.item.milestone_external_ids:
            members[external_id].append(facts)
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
                milestone,
                members.get(milestone.external_id, ()),
                commitment=commitment,
                as_of=as_of,
                sprint_closes=closes,
                throughput=pace,
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
    cache = ItemFactsCache()
    for done, at in enumerate(instants, start=1):
        batch = [f for project in projects for f in facts_as_of(project, at, cache=cache)]
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
