"""The team's side of the process: work pulled in order, done at each person's capacity, reviewed, reopened.

Every change is emitted as an event at the moment it happens; nothing after `now` is recorded.
"""

from __future__ import annotations

import heapq
import math
import random

from sandbox.process.model import OPEN, CommentTopic, Event, EventKind, EventValue, Item, Person, Release

_LAST_RANK = 1_000_000
_TOUCH_LABELS = ("frontend", "backend", "ux", "tech-debt", "client-request")


def clock(day: int, share: float) -> float:
    """A moment of the working day `day`: 09:00 at share 0, 17:00 at share 1."""
    return day + (9.0 + 8.0 * min(max(share, 0.0), 1.0)) / 24.0


class Flow:
    """The state of one project's work; the lead (`sandbox.process.lead`) plans over it."""

    def __init__(
        self, rng: random.Random, *, people: list[Person], items: list[Item], now: float, sprints: bool
    ) -> None:
        self.rng, self.people, self.items, self.now = rng, people, items, now
        self.uses_sprints = sprints
        self.sprint: int | None = None  # the running sprint
        self.releases: list[Release] = []
        self.open_in_release: dict[int, int] = {}  # unfinished items in each release
        self.release_size: dict[int, int] = {}  # items in each release, finished or not
        self.ready: list[tuple[tuple[int, int, int, int], int, int]] = []
        self.active: dict[int, list[int]] = {p.index: [] for p in people}
        self.waiting: dict[int, list[int]] = {}
        self.scheduled: list[tuple[float, int, str]] = []  # (day due, item, "review" | "reopen")
        self.arrived = 0
        self.unfinished: list[Item] = []  # arrived work not done, pruned as it finishes
        self._morning = 0.0

    def morning(self, day: int) -> float:
        """A moment between 08:00 and 09:00, later than the last one asked for that day: the morning's
        housekeeping (reviews ending, planning, triage) happens in the order it is done, before work."""
        self._morning = max(self._morning, day + 8.0 / 24.0) + self.rng.uniform(1.0, 30.0) / 86_400
        return min(self._morning, day + 8.99 / 24.0)

    # -- recording ----------------------------------------------------------------------------------
    def emit(self, at: float, item: Item, kind: EventKind, value: EventValue, actor: int | None) -> None:
        if at < self.now:
            item.events.append(Event(at, item.index, kind, value, actor))

    def comment(self, at: float, item: Item, topic: CommentTopic, actor: int | None) -> None:
        self.emit(at, item, "comment", topic, actor)

    # -- the pulling order ----------------------------------------------------------------------------
    def deadline(self, item: Item) -> int:
        """The day an item is wanted by, as the team sees it: its due date, else its release's date."""
        if item.due is not None:
            return item.due
        return _LAST_RANK if item.version is None else self.releases[item.version].release

    def rank(self, item: Item) -> None:
        """(Re)place a to-do item in the order: what blocks started work, the running sprint, then the
        earliest date it is wanted by, priority and age."""
        item.stamp += 1
        tier = 0 if self.sprint is not None and self.sprint in item.sprints else 1
        key = (-1 if item.expedited else tier, self.deadline(item), item.priority, item.index)
        heapq.heappush(self.ready, (key, item.stamp, item.index))

    def pop_ready(self) -> Item | None:
        while self.ready:
            _, stamp, index = heapq.heappop(self.ready)
            item = self.items[index]
            if item.stamp == stamp and item.stage == "todo":
                return item
        return None

    def arrive(self, day: int) -> list[Item]:
        """Items created before `day` become known to the team."""
        new: list[Item] = []
        while self.arrived < len(self.items) and self.items[self.arrived].created < day:
            item = self.items[self.arrived]
            self.arrived += 1
            new.append(item)
            if item.kind != "epic":
                self.rank(item)
                self.unfinished.append(item)
        return new

    def open_items(self) -> list[Item]:
        self.unfinished = [i for i in self.unfinished if i.stage in OPEN]
        return list(self.unfinished)

    # -- people ----------------------------------------------------------------------------------------
    def least_loaded(self, day: int, *, besides: int | None = None) -> Person | None:
        candidates = [p for p in self.people if p.present(day) and p.index != besides]
        if not candidates:
            return None
        return min(candidates, key=lambda p: (len(self.active[p.index]) / p.part_time, p.index))

    def hand_over(self, item: Item, at: float, day: int, *, actor: int | None) -> None:
        """Give a started item to someone present, or put it back in the queue when nobody is."""
        taker = self.least_loaded(day, besides=item.assignee)
        if item.assignee is not None and item.index in self.active[item.assignee]:
            self.active[item.assignee].remove(item.index)
        if taker is None:
            item.assignee = None
            self.emit(at, item, "assignee", None, actor)
            if item.stage == "doing":
                item.stage = "todo"
                self.emit(at, item, "status", "todo", actor)
                self.rank(item)
            return
        item.assignee = taker.index
        self.emit(at, item, "assignee", taker.index, actor)
        if self.rng.random() < 0.4:
            self.comment(at, item, "handover", actor)
        if item.stage == "doing":
            self.active[taker.index].append(item.index)

    def leave(self, person: Person, day: int) -> None:
        at = self.morning(day)
        mine = [i for i in self.open_items() if i.assignee == person.index]
        for item in mine:
            if item.stage == "review":
                continue
            self.hand_over(item, at, day, actor=None)

    # -- work --------------------------------------------------------------------------------------------
    def work(self, person: Person, day: int) -> None:
        rng = self.rng
        capacity = person.part_time * rng.uniform(0.75, 1.1)
        used = 0.0
        mine = self.active[person.index]
        while used < capacity - 1e-9:
            while len(mine) < person.wip_limit:
                item = self.pop_ready()
                if item is None:
                    break
                self.start(item, person, clock(day, used / capacity))
            if not mine:
                return
            item = self.items[mine[0]]
            take = min(item.effort - item.progress, capacity - used)
            item.progress += take
            used += take
            at = clock(day, used / capacity)
            if rng.random() < 0.05:
                self.emit(at, item, "worklog", max(0.5, round(take * 16) / 2), person.index)
            if rng.random() < 0.02:
                self.comment(at, item, "progress", person.index)
            if rng.random() < 0.01:
                self.emit(at, item, "touch", rng.choice(_TOUCH_LABELS), person.index)
            if item.progress >= item.effort - 1e-9:
                mine.pop(0)
                self.finish(item, at, day, person)

    def start(self, item: Item, person: Person, at: float) -> None:
        if item.assignee != person.index:
            item.assignee = person.index
            self.emit(at, item, "assignee", person.index, person.index)
        if self.uses_sprints and self.sprint is not None and self.sprint not in item.sprints:
            item.sprints = (*item.sprints, self.sprint)
            self.emit(at, item, "sprints", item.sprints, person.index)
        dependency = None if item.depends_on is None else self.items[item.depends_on]
        if dependency is not None and dependency.stage != "done":
            item.stage = "blocked"
            self.emit(at, item, "status", "blocked", person.index)
            if self.rng.random() < 0.6:
                self.comment(at, item, "blocked", person.index)
            self.waiting.setdefault(dependency.index, []).append(item.index)
            if dependency.stage == "todo" and not dependency.expedited and self.rng.random() < 0.5:
                dependency.expedited = True
                self.rank(dependency)
            return
        item.stage = "doing"
        self.emit(at, item, "status", "doing", person.index)
        self.active[person.index].append(item.index)

    def finish(self, item: Item, at: float, day: int, person: Person) -> None:
        if self.rng.random() < 0.55:
            item.stage = "review"
            self.emit(at, item, "status", "review", person.index)
            self.scheduled.append((day + self.rng.randint(1, 3), item.index, "review"))
        else:
            self.complete(item, at, day, person.index)

    def complete(self, item: Item, at: float, day: int, actor: int | None) -> None:
        item.stage = "done"
        self.emit(at, item, "status", "done", actor)
        if item.version is not None and item.version in self.open_in_release:
            self.open_in_release[item.version] -= 1
        for blocked_index in self.waiting.pop(item.index, []):
            waiting = self.items[blocked_index]
            if waiting.events and waiting.events[-1].at >= at and waiting.stage == "blocked":
                self._unsee_block(waiting)
            else:
                self.scheduled.append((day + 1, blocked_index, "unblock"))
        if not item.reopened and self.rng.random() < 0.07:
            item.reopened = True
            self.scheduled.append((day + self.rng.randint(1, 8), item.index, "reopen"))

    def _unsee_block(self, item: Item) -> None:
        """People work side by side: someone started `item` later in the day than its dependency was
        finished by someone else, so it was never blocked; it is simply in progress from then."""
        started = item.events[-1].at
        while item.events and item.events[-1].at == started and item.events[-1].kind in ("status", "comment"):
            item.events.pop()
        item.stage = "doing"
        self.emit(started, item, "status", "doing", item.assignee)
        if item.assignee is not None:
            self.active[item.assignee].append(item.index)

    def run_scheduled(self, day: int) -> None:
        """Reviews ending, blocked items whose dependency is done and reopenings happen in the morning."""
        due = [entry for entry in self.scheduled if entry[0] <= day]
        if not due:
            return
        self.scheduled = [entry for entry in self.scheduled if entry[0] > day]
        for _, index, what in sorted(due):
            item = self.items[index]
            at = self.morning(day)
            if what == "review" and item.stage == "review":
                if self.rng.random() < 0.15:
                    self.comment(at, item, "review", None)
                self.complete(item, at, day, None)
            elif what == "unblock" and item.stage == "blocked":
                self.resume(item, at, day)
            elif what == "reopen" and item.stage == "done":
                item.effort += item.effort * math.exp(self.rng.gauss(-1.4, 0.5))
                self.unfinished.append(item)
                if item.version is not None and item.version in self.open_in_release:
                    self.open_in_release[item.version] += 1
                self.comment(at, item, "review", None)
                self.resume(item, at, day)

    def resume(self, item: Item, at: float, day: int) -> None:
        item.stage = "doing"
        self.emit(at, item, "status", "doing", item.assignee)
        owner = None if item.assignee is None else self.people[item.assignee]
        if owner is None or not owner.on_team(day):
            self.hand_over(item, at, day, actor=None)
        else:
            self.active[owner.index].insert(0, item.index)
