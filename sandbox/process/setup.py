"""The starting material of a project: its people and their calendars, and the work that will arrive."""

from __future__ import annotations

import math
import random

from sandbox.process.model import Item, Kind, Person

_SCALE = {"epic": 0.0, "subtask": 0.4, "bug": 0.6}


def is_workday(day: int, weekday0: int) -> bool:
    return (weekday0 + day) % 7 < 5


def team_size_for(rng: random.Random, *, items: int, days: int, largest: int) -> int:
    """How many people an agency puts on a project: about one for each item every two or three
    working days, at least two, at most `largest`."""
    wanted = items * rng.uniform(2.0, 3.0) / max(days * 5 / 7, 1.0)
    return max(2, min(largest, round(wanted)))


def make_team(rng: random.Random, *, size: int, spare: int, days: int, weekday0: int) -> list[Person]:
    """`size` people from day 0; some leave, and some of those are replaced (from `spare` others) later."""
    people: list[Person] = []
    for index in range(size):
        people.append(_person(rng, index, joins=0, days=days, weekday0=weekday0))
    for person in list(people):
        if days > 20 and rng.random() < 0.12 * days / 240:
            person.leaves = rng.randint(days // 5, days - 5)
            if spare > 0 and rng.random() < 0.6:
                joins = person.leaves + rng.randint(10, 40)
                if joins < days:
                    people.append(_person(rng, len(people), joins=joins, days=days, weekday0=weekday0))
                    spare -= 1
    return people


def _person(rng: random.Random, index: int, *, joins: int, days: int, weekday0: int) -> Person:
    part_time = 1.0 if rng.random() < 0.8 else rng.choice((0.5, 0.6, 0.8))
    person = Person(index, part_time, rng.choice((2, 2, 3)), joins=joins)
    for _ in range(round(days / 120 * rng.uniform(0.5, 1.5))):
        first, length = rng.randint(0, max(days - 1, 0)), rng.randint(3, 10)
        day, taken = first, 0
        while taken < length:
            if is_workday(day, weekday0):
                person.holidays.add(day)
                taken += 1
            day += 1
    person.off |= person.holidays
    for day in range(days + 1):
        if rng.random() < 0.012:
            person.off.update(range(day, day + rng.randint(1, 3)))
    return person


def expected_capacity(people: list[Person], days: int, weekday0: int) -> float:
    """Person-days the team will actually give over the history (absences taken off)."""
    return sum(
        person.part_time
        for person in people
        for day in range(days)
        if is_workday(day, weekday0) and person.present(day)
    )


def make_backlog(
    rng: random.Random,
    *,
    count: int,
    now: float,
    kinds: tuple[tuple[Kind, int], ...],
    epics: bool,
    capacity: float,
) -> list[Item]:
    """`count` items created over the history: a kickoff backlog on the first day, then a steady trickle.

    Their true effort is lognormal, sized so the work asked of the team is about what it can give (some
    projects overloaded, some not); estimates err lognormally around it, a little optimistic.
    """
    created = sorted(
        rng.uniform(0.35, 0.75) if rng.random() < 0.2 else rng.uniform(0.35, max(now - 0.05, 0.4))
        for _ in range(count)
    )
    epic_count = max(1, count // 25) if epics else 0
    names, weights = zip(*kinds, strict=True)
    plan: list[Kind] = list(rng.choices(names, weights, k=count))
    for i in range(epic_count):
        if i == 0 or rng.random() < 0.5:
            plan[i] = "epic"
    work = sum(_SCALE.get(kind, 1.0) for kind in plan) or 1.0
    mean_effort = rng.uniform(0.75, 1.15) * capacity / work
    items: list[Item] = []
    parents: list[int] = []
    epic_ids: list[int] = []
    workable: list[int] = []
    for index, (at, planned) in enumerate(zip(created, plan, strict=True)):
        kind: Kind = "task" if planned == "subtask" and not parents else planned
        effort = mean_effort * _SCALE.get(kind, 1.0) * math.exp(rng.gauss(-0.32, 0.8))
        estimate = effort * math.exp(rng.gauss(-0.1, 0.45))
        urgent = kind == "bug"
        priority = rng.choice((1, 2, 2, 3, 3, 4) if urgent else (2, 3, 3, 3, 4, 5))
        item = Item(index, kind, at, effort, estimate, priority, priority)
        if kind == "subtask":
            item.parent = rng.choice(parents[-50:])
        elif kind == "epic":
            epic_ids.append(index)
        else:
            parents.append(index)
            if epic_ids and rng.random() < 0.7:
                item.parent = rng.choice(epic_ids[-8:])
        if kind in ("story", "task") and workable and rng.random() < 0.2:
            item.depends_on = rng.choice(workable[-30:])
        if kind != "epic":
            workable.append(index)
        items.append(item)
    return items
