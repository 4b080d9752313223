"""One project's delivery, simulated day by day from the first morning to `now`."""

from __future__ import annotations

import math
import random

from sandbox.process.flow import Flow
from sandbox.process.lead import SPRINT_DAYS, Lead
from sandbox.process.model import Item, Kind, ProjectHistory, SprintPlan
from sandbox.process.setup import expected_capacity, is_workday, make_backlog, make_team


def simulate_project(
    rng: random.Random,
    *,
    items: int,
    now: float,
    weekday0: int,
    team_size: int,
    spare_people: int,
    kinds: tuple[tuple[Kind, int], ...],
    epics: bool,
    sprints: bool,
) -> ProjectHistory:
    """`items` work items arriving over `now` days (day 0 starts at midnight, a `weekday0` weekday,
    0 for Monday) for a team of `team_size`; `spare_people` more may join to replace leavers."""
    days = max(math.ceil(now), 1)
    people = make_team(rng, size=team_size, spare=spare_people, days=days, weekday0=weekday0)
    capacity = expected_capacity(people, days, weekday0)
    backlog = make_backlog(rng, count=items, now=now, kinds=kinds, epics=epics, capacity=capacity)
    flow = Flow(rng, people=people, items=backlog, now=now, sprints=sprints)
    lead = Lead(flow)
    for day in range(days):
        if sprints and day >= 1 and (day - 1) % SPRINT_DAYS == 0:
            lead.sprint_boundary(day)
        lead.triage(flow.arrive(day), day)
        for person in people:
            if person.leaves == day:
                flow.leave(person, day)
        if not is_workday(day, weekday0):
            continue
        flow.run_scheduled(day)
        if day >= 1:
            lead.plan_releases(day)
        if (weekday0 + day) % 7 == 0:
            lead.review(day)
        for person in people:
            if person.present(day):
                flow.work(person, day)
        lead.ship(day)
    plans = list(lead.sprints)
    if sprints:
        start = plans[-1].end if plans else 1
        plans.append(SprintPlan(len(plans), start, start + SPRINT_DAYS))
    _close_epics(flow, backlog)
    for item in backlog:
        item.events.sort(key=lambda event: event.at)
    return ProjectHistory(now, people, backlog, flow.releases, plans)


def _close_epics(flow: Flow, items: list[Item]) -> None:
    """An epic is in progress from its first child's start and done with its last child's end."""
    children: dict[int, list[Item]] = {}
    for item in items:
        if item.parent is not None and items[item.parent].kind == "epic":
            children.setdefault(item.parent, []).append(item)
    for epic_index, kids in children.items():
        epic = items[epic_index]
        starts = [e.at for kid in kids for e in kid.events if e.kind == "status" and e.value != "todo"]
        if not starts:
            continue
        first = max(min(starts), epic.created) + 0.001
        epic.stage = "doing"
        flow.emit(first, epic, "status", "doing", None)
        ends = [_done_at(kid) for kid in kids]
        if all(end is not None for end in ends):
            last = max(end for end in ends if end is not None)
            epic.stage = "done"
            flow.emit(max(last, first) + 0.001, epic, "status", "done", None)


def _done_at(item: Item) -> float | None:
    statuses = [e for e in item.events if e.kind == "status"]
    return statuses[-1].at if statuses and statuses[-1].value == "done" else None
