"""The lead's side of the process: triage, release and sprint plans from estimates and nominal capacity,
and a weekly look at the forecast that sometimes moves a date, sometimes cuts scope, sometimes does nothing.

The lead knows estimates, the share of each item that looks done, and who is on the team; not the true
effort, and not who will be ill. A release is planned with some padding, not always enough: at 70 to
105% of the nominal pace, while unplanned work keeps arriving. A date given for a single item is the
lead's forecast of when the work wanted before it and the item itself are done.
"""

from __future__ import annotations

import math

from sandbox.process.flow import Flow
from sandbox.process.model import OPEN, Item, Release, SprintPlan

SPRINT_DAYS = 14
# The share of new items a client is given a date for; the rest are done in order, without one.
DATED_SHARE = 0.35


def calendar_days(workdays: float) -> int:
    return math.ceil(workdays * 7 / 5)


class Lead:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.rng = flow.rng
        self.sprints: list[SprintPlan] = []
        self.dated: list[Item] = []  # open items with a due date

    def nominal(self, day: int) -> float:
        """Person-days a day the lead counts on: everyone on the team at their part-time share, times the
        usual focus factor (meetings, support); holidays and sickness are not foreseen."""
        return 0.7 * sum(p.part_time for p in self.flow.people if p.on_team(day)) or 0.5

    # -- triage ---------------------------------------------------------------------------------------
    def triage(self, items: list[Item], day: int) -> None:
        rng, flow = self.rng, self.flow
        current = self.current_release(day)
        for item in items:
            if item.kind == "epic":
                continue
            at = flow.morning(day)
            wanted = 0.25 if item.kind == "bug" else 0.05
            if current is not None and rng.random() < wanted:
                self.add_to_release(item, current, at)
            urgent = item.priority <= 2 and item.kind == "bug"
            if flow.uses_sprints and flow.sprint is not None and urgent and rng.random() < 0.5:
                item.sprints = (*item.sprints, flow.sprint)
                flow.emit(at, item, "sprints", item.sprints, None)
                flow.rank(item)
            if rng.random() < DATED_SHARE:
                self.set_due(item, self._date_for(item, day), at)

    def _date_for(self, item: Item, day: int) -> int:
        """The date the lead gives a client for a new item: when the work wanted before it and the item
        itself are done at the team's nominal pace, a little optimistically, with a day or two to spare;
        never sooner than a few days out."""
        flow = self.flow
        horizon = day + 30
        ahead = sum(self._remaining(i) for i in flow.open_items() if flow.deadline(i) <= horizon)
        pace = self.nominal(day) * self.rng.uniform(0.9, 1.3)
        return day + max(calendar_days((ahead + item.estimate) / pace) + self.rng.randint(1, 3), 3)

    def set_due(self, item: Item, day: int, at: float) -> None:
        if item.due is None:
            self.dated.append(item)
        item.due = day
        self.flow.emit(at, item, "due", day, None)
        if item.stage == "todo":
            self.flow.rank(item)

    def add_to_release(self, item: Item, release: Release, at: float) -> None:
        flow = self.flow
        item.version = release.index
        flow.emit(at, item, "version", release.index, None)
        flow.open_in_release[release.index] = flow.open_in_release.get(release.index, 0) + 1
        flow.release_size[release.index] += 1
        if at < flow.now:
            release.scope_added.append((at, item.index))
        if item.stage == "todo":
            flow.rank(item)

    def current_release(self, day: int) -> Release | None:
        """The release the team works towards: the first whose date has not passed."""
        return next((r for r in self.flow.releases if r.released_at is None and r.release >= day), None)

    # -- releases -------------------------------------------------------------------------------------
    def plan_releases(self, day: int) -> None:
        """Keep about three weeks of releases planned ahead, each sized to roughly a month of work."""
        flow = self.flow
        while not flow.releases or flow.releases[-1].release < day + 21:
            candidates = sorted(
                (i for i in flow.open_items() if i.version is None and i.stage == "todo"),
                key=lambda i: (i.priority, i.index),
            )
            nominal = self.nominal(day)
            target = nominal * self.rng.uniform(15, 25)
            scope: list[Item] = []
            estimate = 0.0
            for item in candidates:
                if estimate >= target:
                    break
                scope.append(item)
                estimate += item.estimate
            ahead = sum(1 for r in flow.releases if r.released_at is None and r.release >= day)
            # The lead keeps the current release and the next one planned, the next with whatever work
            # there is (new work is triaged into it); further ones wait for enough work to fill them.
            if ahead >= 2 and (len(scope) < 2 or estimate < target / 2):
                return
            start = max(day, flow.releases[-1].release if flow.releases else day)
            optimism = self.rng.uniform(0.7, 1.05)
            release_day = start + max(calendar_days(estimate / (nominal * optimism)), 14)
            at = flow.morning(day)
            if at >= flow.now:
                return
            release = Release(
                len(flow.releases),
                at,
                start,
                release_day,
                release_day,
                estimate,
                sum(i.effort for i in scope),
            )
            flow.releases.append(release)
            flow.open_in_release[release.index] = 0
            flow.release_size[release.index] = len(scope)
            for item in scope:
                item.version = release.index
                flow.emit(at, item, "version", release.index, None)
                flow.open_in_release[release.index] += 1
                flow.rank(item)
                if self.rng.random() < 0.3:
                    self.set_due(item, release_day, at)

    def ship(self, day: int) -> None:
        """Release what is done on or after the promised day; a few stragglers are often left for later."""
        flow = self.flow
        for release in flow.releases:
            if release.released_at is not None or day < release.release:
                continue
            at = flow.morning(day) + 9 / 24
            if at >= flow.now:
                return
            if flow.open_in_release.get(release.index, 0) > 0:
                mine = [i for i in flow.open_items() if i.version == release.index]
                if len(mine) > flow.release_size[release.index] / 4 or self.rng.random() < 0.3:
                    continue
                self._cut_scope(release, mine, float("inf"), at, started_too=True)
            release.released_at = at

    # -- sprints ----------------------------------------------------------------------------------------
    def sprint_boundary(self, day: int) -> None:
        """Close the running sprint (unfinished work carried over, some dropped) and commit the next one."""
        flow, rng = self.flow, self.rng
        at = flow.morning(day)
        index = len(self.sprints)
        self.sprints.append(SprintPlan(index, day, day + SPRINT_DAYS))
        previous, flow.sprint = flow.sprint, index
        committed: list[Item] = []
        budget = self.nominal(day) * 10 * rng.uniform(0.9, 1.3)
        if previous is not None:
            for item in flow.open_items():
                if not item.sprints or item.sprints[-1] != previous:
                    continue
                if item.stage == "todo" and rng.random() < 0.5:
                    flow.rank(item)
                    continue
                item.sprints = (*item.sprints, index)
                flow.emit(at, item, "sprints", item.sprints, None)
                committed.append(item)
                budget -= item.estimate * max(0.1, 1 - item.progress / item.effort)
                if item.stage == "todo":
                    flow.rank(item)
        taken: list[Item] = []
        carried: list[Item] = []
        while budget > 0:
            candidate = flow.pop_ready()
            if candidate is None:
                break
            if index in candidate.sprints:
                carried.append(candidate)
                continue
            taken.append(candidate)
            budget -= candidate.estimate
        for item in taken:
            item.sprints = (*item.sprints, index)
            flow.emit(at, item, "sprints", item.sprints, None)
        for item in taken + carried:
            flow.rank(item)
        self.sprints[-1].committed = tuple(i.index for i in committed + taken)

    # -- the weekly look ------------------------------------------------------------------------------
    def review(self, day: int) -> None:
        self._review_releases(day)
        self._review_due_dates(day)
        self._cover_absences(day)
        self._noise(day)

    def _remaining(self, item: Item) -> float:
        if item.stage == "review":
            return 0.1 * item.estimate
        return item.estimate * max(0.1, 1 - item.progress / item.effort) if item.effort else 0.0

    def _review_releases(self, day: int) -> None:
        flow, rng = self.flow, self.rng
        at = flow.morning(day)
        nominal = self.nominal(day)
        open_items = flow.open_items()
        ahead = 0.0
        for release in flow.releases:
            if release.released_at is not None:
                continue
            mine = [i for i in open_items if i.version == release.index]
            ahead += sum(self._remaining(i) for i in mine)
            forecast = day + calendar_days(ahead / nominal)
            if forecast <= release.release + 1 or release.start > day + 14:
                continue
            choice = rng.random() * (1.0 if release.release >= day else 2.5)
            if choice < 0.4 and len(release.moves) < 3:
                self._move_release(release, forecast + rng.randint(0, 4), at)
            elif choice < 0.6:
                ahead -= self._cut_scope(release, mine, ahead - nominal * (release.release - day) * 5 / 7, at)

    def _move_release(self, release: Release, new_day: int, at: float) -> None:
        old = release.release
        release.release = new_day
        if at < self.flow.now:
            release.moves.append((at, new_day))
        for item in self.dated:
            if item.version == release.index and item.due == old and item.stage in OPEN:
                self.set_due(item, new_day, at)

    def _cut_scope(
        self, release: Release, mine: list[Item], excess: float, at: float, *, started_too: bool = False
    ) -> float:
        flow = self.flow
        later = release.index + 1 if release.index + 1 < len(flow.releases) else None
        cut = 0.0
        movable = [i for i in mine if started_too or i.stage == "todo"]
        for item in sorted(movable, key=lambda i: (-i.priority, -i.index)):
            if cut >= excess:
                break
            cut += item.estimate
            item.version = later
            flow.emit(at, item, "version", later, None)
            flow.open_in_release[release.index] -= 1
            flow.release_size[release.index] -= 1
            if later is not None:
                flow.open_in_release[later] += 1
                flow.release_size[later] += 1
            if at < flow.now:
                release.scope_cut.append((at, item.index))
            if item.stage == "todo":
                flow.rank(item)
        return cut

    def _review_due_dates(self, day: int) -> None:
        flow, rng = self.flow, self.rng
        at = flow.morning(day)
        self.dated = [i for i in self.dated if i.stage in OPEN]
        for item in self.dated:
            assert item.due is not None
            if item.due - day > 10:
                continue
            if item.stage == "todo":
                forecast = day + calendar_days(item.estimate) + 3
            else:
                owner = 1.0 if item.assignee is None else flow.people[item.assignee].part_time
                forecast = day + calendar_days(self._remaining(item) / owner)
            # Before the date, a lead who sees it will be missed often moves it; once it has passed,
            # it mostly stays missed.
            if forecast > item.due and rng.random() < (0.35 if item.due >= day else 0.1):
                self.set_due(item, forecast + rng.randint(0, 2), at)
                if rng.random() < 0.5:
                    flow.comment(at, item, "date", None)

    def _cover_absences(self, day: int) -> None:
        """Work of someone away on holiday for most of the week is handed to someone else, sometimes."""
        flow = self.flow
        for person in flow.people:
            if not person.on_team(day) or not flow.active[person.index]:
                continue
            away = sum(1 for d in range(day, day + 5) if d in person.holidays)
            if away >= 3:
                for index in list(flow.active[person.index]):
                    if self.rng.random() < 0.4:
                        flow.hand_over(flow.items[index], self.flow.morning(day), day, actor=None)

    def _noise(self, day: int) -> None:
        """Priorities change, clients chime in, someone reassigns a task: edits that are no progress."""
        flow, rng = self.flow, self.rng
        open_items = flow.open_items()
        if not open_items:
            return
        for _ in range(max(1, len(open_items) // 40)):
            item = rng.choice(open_items)
            at = flow.morning(day)
            what = rng.random()
            if what < 0.45:
                item.priority = min(5, max(1, item.priority + rng.choice((-1, 1))))
                flow.emit(at, item, "priority", item.priority, None)
                if item.stage == "todo":
                    flow.rank(item)
            elif what < 0.8:
                flow.comment(at, item, "client", None)
            elif item.stage == "doing" and item.assignee is not None:
                flow.hand_over(item, at, day, actor=None)
