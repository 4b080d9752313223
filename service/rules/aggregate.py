"""Milestone and project facts, summed up from their items' facts at one instant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time

from service.domain.commitments import Commitment
from service.domain.enums import CommitmentOutcome, MilestoneKind, Visibility
from service.domain.work import Milestone, Project
from service.rules.facts import ItemFacts, MilestoneFacts, ProjectFacts, ScopeAddition, SprintFacts
from service.rules.forecast import weekly_throughput

DEFAULT_THROUGHPUT_WEEKS = 8


def _visible(items: Iterable[ItemFacts]) -> list[ItemFacts]:
    return [f for f in items if f.item.visibility is Visibility.VISIBLE]


def team_throughput(
    items: Iterable[ItemFacts], *, as_of: datetime, weeks: int = DEFAULT_THROUGHPUT_WEEKS
) -> tuple[int, ...]:
    return weekly_throughput((f.done_at for f in items if f.done_at is not None), as_of=as_of, weeks=weeks)


def sprint_closes(milestones: Iterable[Milestone]) -> dict[str, datetime]:
    """When each closed sprint among `milestones` closed (its complete date): what carry-over reads."""
    return {
        m.external_id: m.completed_at
        for m in milestones
        if m.kind is MilestoneKind.SPRINT and m.completed_at is not None
    }


def _sprint_start(milestone: Milestone) -> datetime | None:
    if milestone.started_at is not None:
        return milestone.started_at
    # A sprint stored before its instant of start was kept: the start of its day.
    return datetime.combine(milestone.start_date, time.min, tzinfo=UTC) if milestone.start_date else None


def _added_at(facts: ItemFacts, sprint_id: str, start_at: datetime) -> datetime | None:
    """When the item came into the sprint after its start; None when it was in it at the start.

    From the Sprint field's changelog (the item's membership states), not from when the item was
    created: an old item added after the start was added after it, an item in the sprint at its start
    was not, whenever it was created."""
    at_start = facts.membership_at(start_at)
    if at_start is not None and sprint_id in at_start.milestone_ids:
        return None
    for state in facts.memberships:
        if state.since > start_at and sprint_id in state.milestone_ids:
            return state.since
    # Not in it by its history (facts built without one): when it joined, as the item says.
    joined = facts.joined_milestones.get(sprint_id, facts.item.created_at)
    return joined if joined > start_at else None


def _carried_over(facts: ItemFacts, sprint: Milestone, closes: Mapping[str, datetime]) -> bool:
    """The item was in an earlier sprint when that sprint closed, not done, and is in this one now."""
    own_close = closes.get(sprint.external_id)
    ever = {m for state in facts.memberships for m in state.milestone_ids if m in closes}
    for other_id in ever - {sprint.external_id}:
        closed_at = closes[other_id]
        if own_close is not None and closed_at >= own_close:
            continue
        state = facts.membership_at(closed_at)
        if state is not None and other_id in state.milestone_ids and not state.done:
            return True
    return False


def _sprint_facts(
    milestone: Milestone, members: Sequence[ItemFacts], closes: Mapping[str, datetime]
) -> SprintFacts:
    start_at = _sprint_start(milestone)
    at_start: list[str] = []
    added: list[ScopeAddition] = []
    for facts in members:
        added_at = _added_at(facts, milestone.external_id, start_at) if start_at is not None else None
        if added_at is not None:
            added.append(ScopeAddition(item_key=facts.key, added_at=added_at))
        else:
            at_start.append(facts.key)
    carried = [f.key for f in members if _carried_over(f, milestone, closes)]
    return SprintFacts(
        start=milestone.start_date,
        end=milestone.due_date,
        items_at_start=tuple(sorted(at_start)),
        added_after_start=tuple(sorted(added, key=lambda a: (a.added_at, a.item_key))),
        carried_over=tuple(sorted(carried)),
    )


def build_milestone_facts(
    milestone: Milestone,
    items: Iterable[ItemFacts],
    *,
    commitment: Commitment | None,
    as_of: datetime,
    sprint_closes: Mapping[str, datetime],
    throughput: Sequence[int] | None = None,
    data_as_of: datetime | None = None,
) -> MilestoneFacts:
    """Facts of a milestone from the facts of the items that belong to it at `as_of`.

    `items` may hold any items of the project; the members are picked by milestone id.
    `sprint_closes` says when each closed sprint of the project closed (`sprint_closes()` of its
    milestones as of `as_of`): a sprint's carried-over items are read against them.
    `throughput` is the team's weekly pace (see `team_throughput`); by default the members' own.
    """
    members = [f for f in _visible(items) if milestone.external_id in f.item.milestone_external_ids]
    members.sort(key=lambda f: f.key)
    today = as_of.date()
    additions: list[ScopeAddition] = []
    if commitment is not None:
        for facts in members:
            joined = facts.joined_milestones.get(milestone.external_id, facts.item.created_at)
            if joined > commitment.promised_at:
                additions.append(ScopeAddition(item_key=facts.key, added_at=joined))
    additions.sort(key=lambda a: (a.added_at, a.item_key))
    pace = tuple(throughput) if throughput is not None else team_throughput(members, as_of=as_of)
    return MilestoneFacts(
        milestone=milestone,
        commitment=commitment,
        item_keys=tuple(f.key for f in members),
        items_total=len(members),
        items_done=sum(1 for f in members if f.item.is_done),
        items_blocked=sum(1 for f in members if f.item.blocked and not f.item.is_done),
        items_overdue=sum(1 for f in members if f.item.days_overdue(today) > 0),
        weekly_throughput=pace,
        scope_added_after_promise=tuple(additions),
        sprint=_sprint_facts(milestone, members, sprint_closes)
        if milestone.kind is MilestoneKind.SPRINT
        else None,
        as_of=as_of,
        data_as_of=data_as_of,
    )


def build_project_facts(
    project: Project,
    items: Iterable[ItemFacts],
    milestones: Iterable[MilestoneFacts],
    *,
    as_of: datetime,
    throughput: Sequence[int] | None = None,
    data_as_of: datetime | None = None,
) -> ProjectFacts:
    visible = [f for f in _visible(items) if f.item.project_external_id == project.external_id]
    today = as_of.date()
    outcomes = [f.commitment.outcome(today) for f in visible if f.commitment is not None]
    milestone_list = list(milestones)
    return ProjectFacts(
        project=project,
        items_total=len(visible),
        items_done=sum(1 for f in visible if f.item.is_done),
        items_overdue=sum(1 for f in visible if f.item.days_overdue(today) > 0),
        items_blocked=sum(1 for f in visible if f.item.blocked and not f.item.is_done),
        items_unassigned=sum(1 for f in visible if f.item.assignee is None and not f.item.is_done),
        milestones_total=len(milestone_list),
        milestones_overdue=sum(
            1
            for m in milestone_list
            if m.commitment is not None
            and m.commitment.outcome(today) is CommitmentOutcome.MISSED
            and m.commitment.delivered_at is None
        ),
        commitments_open=outcomes.count(CommitmentOutcome.OPEN),
        commitments_missed=outcomes.count(CommitmentOutcome.MISSED),
        commitments_met=outcomes.count(CommitmentOutcome.MET),
        weekly_throughput=tuple(throughput)
        if throughput is not None
        else team_throughput(visible, as_of=as_of),
        as_of=as_of,
        data_as_of=data_as_of,
    )
