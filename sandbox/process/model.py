"""What the delivery process is made of: people, work items, releases, sprints and the events it emits.

Time is counted in days since the midnight that opens the history (a float: 3.5 is noon of the fourth
day); effort in person-days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

EventKind = Literal[
    "status",  # value: a Stage
    "assignee",  # value: a person's index or None
    "version",  # value: a release's index or None
    "sprints",  # value: the tuple of sprint indexes, oldest first, as the Sprint field keeps them
    "due",  # value: a day or None
    "priority",  # value: 1 (highest) … 5 (lowest)
    "comment",  # value: a CommentTopic
    "touch",  # value: a label name; an edit that is no progress
    "worklog",  # value: hours spent that day
]
Stage = Literal["todo", "doing", "blocked", "review", "done"]
CommentTopic = Literal["progress", "blocked", "review", "date", "client", "handover"]
EventValue = int | float | str | tuple[int, ...] | None
Kind = Literal["epic", "story", "task", "bug", "subtask"]
OPEN: frozenset[str] = frozenset({"todo", "doing", "blocked", "review"})


class Event(NamedTuple):
    at: float
    item: int
    kind: EventKind
    value: EventValue
    actor: int | None  # a person's index; None is the project's lead (planning, triage)


@dataclass(slots=True)
class Person:
    index: int
    part_time: float  # share of a full day this person gives the project
    wip_limit: int
    joins: int = 0
    leaves: int | None = None
    off: set[int] = field(default_factory=set)  # days away: holidays and sickness
    holidays: set[int] = field(default_factory=set)  # the planned part of `off`, known ahead

    def present(self, day: int) -> bool:
        return self.joins <= day and (self.leaves is None or day < self.leaves) and day not in self.off

    def on_team(self, day: int) -> bool:
        return self.joins <= day and (self.leaves is None or day < self.leaves)


@dataclass(slots=True)
class Item:
    index: int
    kind: Kind
    created: float
    effort: float  # the true work it takes, unknown to everyone
    estimate: float  # what the team believes it takes
    priority: int
    initial_priority: int = 0
    parent: int | None = None
    depends_on: int | None = None
    stage: Stage = "todo"
    assignee: int | None = None
    progress: float = 0.0
    version: int | None = None
    sprints: tuple[int, ...] = ()
    due: int | None = None
    stamp: int = 0  # bumped when its place in the pulling order changes
    reopened: bool = False
    expedited: bool = False  # pulled next because started work waits on it
    events: list[Event] = field(default_factory=list)


@dataclass(slots=True)
class Release:
    """A version: the lead plans its scope and date from estimates and the team's nominal capacity."""

    index: int
    planned_at: float
    start: int
    baseline: int  # the first promised release day
    release: int  # the current promised day
    planned_estimate: float
    planned_effort: float  # the true effort of the planned scope, for the record
    moves: list[tuple[float, int]] = field(default_factory=list)  # (when, new day)
    scope_added: list[tuple[float, int]] = field(default_factory=list)  # (when, item) after the date was set
    scope_cut: list[tuple[float, int]] = field(default_factory=list)
    released_at: float | None = None


@dataclass(slots=True)
class SprintPlan:
    index: int
    start: int
    end: int
    committed: tuple[int, ...] = ()  # items in it when it started


@dataclass(slots=True)
class ProjectHistory:
    """One project's delivery from the first day to `now` (days since the first midnight)."""

    now: float
    people: list[Person]
    items: list[Item]
    releases: list[Release]
    sprints: list[SprintPlan]

    def events(self) -> list[Event]:
        return sorted((e for item in self.items for e in item.events), key=lambda e: (e.at, e.item))
