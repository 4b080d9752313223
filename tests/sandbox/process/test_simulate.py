from __future__ import annotations

import itertools
import math
import random
from statistics import fmean

import pytest

from sandbox.process import Event, Item, ProjectHistory, simulate_project
from sandbox.process.model import Kind
from sandbox.process.setup import is_workday

KINDS: tuple[tuple[Kind, int], ...] = (("story", 48), ("task", 16), ("bug", 16), ("subtask", 20))
WEEKDAY0 = 0


def _simulate(seed: int, *, items: int = 300, days: float = 150.5) -> ProjectHistory:
    return simulate_project(
        random.Random(seed),
        items=items,
        now=days,
        weekday0=WEEKDAY0,
        team_size=5,
        spare_people=2,
        kinds=KINDS,
        epics=True,
        sprints=True,
    )


@pytest.fixture(scope="module")
def histories() -> list[ProjectHistory]:
    return [_simulate(seed) for seed in range(20)]


def _statuses(item: Item) -> list[Event]:
    return [e for e in item.events if e.kind == "status"]


def _cycle(item: Item) -> tuple[float, float] | None:
    """(first start, final done) of an item that is done, else None."""
    statuses = _statuses(item)
    if not statuses or statuses[-1].value != "done":
        return None
    return statuses[0].at, statuses[-1].at


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    for rank, index in enumerate(order):
        ranks[index] = float(rank)
    return ranks


def _spearman(xs: list[float], ys: list[float]) -> float:
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = fmean(rx), fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / var


def test_simulate_project_same_seed_emits_the_same_events() -> None:
    assert _simulate(4).events() == _simulate(4).events()


def test_simulate_project_other_seed_emits_other_events() -> None:
    assert _simulate(4).events() != _simulate(5).events()


def test_simulate_project_records_nothing_after_now(histories: list[ProjectHistory]) -> None:
    for history in histories:
        assert all(0 <= e.at < history.now for e in history.events())
        assert all(item.events == sorted(item.events, key=lambda e: e.at) for item in history.items)


def test_simulate_project_cycle_time_grows_with_true_effort(histories: list[ProjectHistory]) -> None:
    done = [(item.effort, cycle) for h in histories for item in h.items if (cycle := _cycle(item))]
    correlation = _spearman([effort for effort, _ in done], [end - start for _, (start, end) in done])
    assert correlation > 0.3


def test_simulate_project_cycle_time_grows_with_the_assignees_absence(
    histories: list[ProjectHistory],
) -> None:
    """Among items done by one person, those whose person was away meanwhile took longer per unit of work."""
    away: list[float] = []
    present: list[float] = []
    for history in histories:
        for item in history.items:
            cycle = _cycle(item)
            owners = {e.value for e in item.events if e.kind == "assignee"}
            if cycle is None or item.kind == "epic" or len(owners) != 1:
                continue
            (owner,) = owners
            assert isinstance(owner, int)
            person = history.people[owner]
            start, end = cycle
            days = range(int(start), int(end) + 1)
            absent = sum(1 for d in days if is_workday(d, WEEKDAY0) and d in person.off)
            (away if absent else present).append((end - start) / item.effort)
    assert len(away) > 30 and len(present) > 30
    assert fmean(away) > fmean(present) * 1.2


def test_simulate_project_releases_planned_beyond_capacity_are_more_often_late(
    histories: list[ProjectHistory],
) -> None:
    """The half of releases whose true work is largest against the team's capacity before the date
    is late more often than the other half."""
    loads: list[tuple[float, bool]] = []
    for history in histories:
        for release in history.releases:
            if release.baseline >= history.now or not release.planned_effort:
                continue
            capacity = sum(
                person.part_time
                for day in range(release.start, release.baseline)
                if is_workday(day, WEEKDAY0)
                for person in history.people
                if person.present(day)
            )
            shipped = release.released_at
            late = bool(release.moves) or shipped is None or shipped > release.baseline + 1
            loads.append((release.planned_effort / max(capacity, 0.1), late))
    loads.sort()
    under, over = loads[: len(loads) // 2], loads[len(loads) // 2 :]
    assert len(under) >= 10
    assert fmean(late for _, late in over) > fmean(late for _, late in under)


def test_simulate_project_blocks_work_only_on_an_open_dependency(histories: list[ProjectHistory]) -> None:
    blocked = 0
    for history in histories:
        for item in history.items:
            for event in _statuses(item):
                if event.value != "blocked":
                    continue
                blocked += 1
                assert item.depends_on is not None
                dependency = [e for e in _statuses(history.items[item.depends_on]) if e.at <= event.at]
                assert not dependency or dependency[-1].value != "done"
    assert blocked > 0


def _reopened(item: Item) -> bool:
    statuses = [e.value for e in _statuses(item)]
    return any(a == "done" and b == "doing" for a, b in itertools.pairwise(statuses))


def test_simulate_project_reopens_work_after_it_was_done(histories: list[ProjectHistory]) -> None:
    assert any(_reopened(item) for history in histories for item in history.items)


def test_simulate_project_adds_scope_to_a_release_after_its_date_was_set(
    histories: list[ProjectHistory],
) -> None:
    added = 0
    for history in histories:
        for release in history.releases:
            for at, index in release.scope_added:
                added += 1
                assert at > release.planned_at
                events = history.items[index].events
                assert any(e.kind == "version" and e.value == release.index and e.at == at for e in events)
    assert added > 0


def test_simulate_project_carries_unfinished_work_into_the_next_sprint(
    histories: list[ProjectHistory],
) -> None:
    carried = [
        event
        for history in histories
        for item in history.items
        for event in item.events
        if event.kind == "sprints" and isinstance(event.value, tuple) and len(event.value) > 1
    ]
    assert carried
    assert all(isinstance(e.value, tuple) and list(e.value) == sorted(e.value) for e in carried)
