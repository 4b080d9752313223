"""The variables a custom rule's CEL `when` (and any message template) can read.

Every field is always present with the type shown; absent values have a stated default instead
of null, so a condition never fails on a missing date. Dates are "YYYY-MM-DD" strings (compare
them as strings, or with `today`); instants are CEL timestamps in UTC. "Volatile" fields change
with the clock alone; they are left out of a finding's fingerprint, so a flag is not re-posted
to Jira just because another day passed.

Rules with `applies_to: item`
    item.id int                      store id (0 when not stored yet)
    item.key string                  "ABC-12" / Trello short link
    item.title string
    item.kind string                 epic | story | task | bug | subtask | card
    item.status string               the provider's status or list name
    item.status_category string      todo | in_progress | done
    item.priority string             highest | high | medium | low | lowest | none
    item.priority_rank int           5 (highest) .. 1 (lowest), 0 for none
    item.assignee string             display name, "" when unassigned
    item.assigned bool
    item.labels list<string>
    item.components list<string>
    item.project string              project external id
    item.parent string               parent external id, "" when none
    item.milestones list<string>     milestone external ids
    item.has_due_date bool
    item.due_date string             "" when none
    item.days_until_due int          volatile; negative when past, 0 when no due date
    item.days_overdue int            volatile; 0 when not due, done or gone
    item.is_done bool
    item.blocked bool
    item.days_blocked int            volatile; 0 when not blocked
    item.days_since_activity int     volatile; since the last sign of work (see last_activity_at)
    item.days_in_progress int        volatile; 0 when not in progress
    item.times_reopened int
    item.age_days int                volatile
    item.story_points double         0.0 when none
    item.estimate_hours double       0.0 when none
    item.spent_hours double          0.0 when none
    item.created_at timestamp
    item.updated_at timestamp        the provider's stamp; pmbridge's own comments move it too
    item.last_activity_at timestamp  creation, changes, comments and Trello card actions, never
                                     pmbridge's own comments (docs/ARCHITECTURE.md, activity)
    item.url string                  "" when none
    commitment                       the item's promise (see below)

Rules with `applies_to: milestone`
    milestone.id int, milestone.key string (external id), milestone.name string,
    milestone.kind string            version | sprint | card | list
    milestone.project string         project external id
    milestone.has_due_date bool, milestone.due_date string, milestone.start_date string ("" when none)
    milestone.days_until_due int     volatile; negative when past, 0 when no due date
    milestone.released bool
    milestone.items_total int, milestone.items_done int, milestone.items_open int,
    milestone.items_blocked int, milestone.items_overdue int
    milestone.percent_done double    0..100
    milestone.scope_added_after_promise int
    milestone.is_sprint bool
    milestone.added_after_start int  sprints: items that joined after the start (0 otherwise)
    milestone.carried_over int       sprints: items carried over from an earlier sprint
    milestone.elapsed_fraction double  volatile; sprints: 0..1 of the sprint's days gone
    milestone.weekly_throughput list<int>  items done per week, oldest first
    milestone.avg_weekly_throughput double
    commitment                       the milestone's promise (see below)

The promise, `commitment` (items and milestones)
    commitment.exists bool           false when no date was ever promised; the rest are defaults
    commitment.baseline_date string  the first promised date
    commitment.current_date string   the date in force ("" when cleared)
    commitment.promised_at timestamp when the first date was set (epoch when none)
    commitment.move_count int        every move of the date
    commitment.slip_count int        moves that made it later
    commitment.slip_days int         net days from baseline to current (0 when pulled in)
    commitment.delivered bool
    commitment.outcome string        open | met | missed ("" when none); volatile
    commitment.days_overdue int      volatile; days past the date in force while undelivered

Rules with `applies_to: project`
    project.id int, project.key string, project.name string
    project.items_total int, project.items_done int, project.items_open int,
    project.items_overdue int, project.items_blocked int, project.items_unassigned int
    project.milestones_total int, project.milestones_overdue int
    project.commitments_open int, project.commitments_missed int, project.commitments_met int
    project.on_time_rate double      met / (met + missed); 1.0 when nothing has ended yet
    project.weekly_throughput list<int>, project.avg_weekly_throughput double

Everywhere
    now timestamp                    volatile; the evaluation instant (the replayed day in a dry run)
    today string                     volatile; now's UTC date, "YYYY-MM-DD"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

from service.domain.commitments import Commitment
from service.domain.enums import FlagSubject, Priority
from service.rules.facts import Facts, ItemFacts, MilestoneFacts, ProjectFacts

CelValue = int | float | str | bool | datetime | tuple[str, ...] | tuple[int, ...]
S = TypeVar("S")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Env:
    """The evaluation instant; `today` is its UTC date. `cycle_days` holds, per project (source
    id, project external id), the cycle times in days (first in progress to done) of its items done
    in the `CYCLE_WEEKS` weeks before `now`, shortest first: what an item's forecast draws on."""

    now: datetime
    today: date
    cycle_days: Mapping[tuple[int, str], tuple[float, ...]] = field(default_factory=dict)

    @classmethod
    def at(cls, now: datetime, batch: Iterable[Facts] = ()) -> Env:
        if now.tzinfo is None:
            raise ValueError("evaluation time must be timezone-aware")
        utc = now.astimezone(UTC)
        return cls(now=utc, today=utc.date(), cycle_days=cycle_days_of(batch, utc))


# How far back an item's forecast looks for items done in its project.
CYCLE_WEEKS = 12


def cycle_days_of(batch: Iterable[Facts], now: datetime) -> dict[tuple[int, str], tuple[float, ...]]:
    """Per project, the cycle times of the batch's items done in the `CYCLE_WEEKS` weeks before `now`."""
    since = now - timedelta(weeks=CYCLE_WEEKS)
    found: dict[tuple[int, str], list[float]] = {}
    for f in batch:
        if not isinstance(f, ItemFacts) or f.done_at is None or f.started_at is None:
            continue
        if not since <= f.done_at <= now or f.started_at > f.done_at:
            continue
        days = (f.done_at - f.started_at).total_seconds() / 86_400
        found.setdefault((f.item.source_id, f.item.project_external_id), []).append(days)
    return {key: tuple(sorted(days)) for key, days in found.items()}


@dataclass(frozen=True, slots=True)
class ContextField(Generic[S]):
    cel_type: str
    get: Callable[[S, Env], CelValue]
    volatile: bool = False


@dataclass(frozen=True, slots=True)
class Namespace(Generic[S]):
    """One CEL variable holding a map: where its values come from, and its fields."""

    source: Callable[[Facts], S]
    fields: Mapping[str, ContextField[S]]


_PRIORITY_RANK = {
    Priority.HIGHEST: 5,
    Priority.HIGH: 4,
    Priority.MEDIUM: 3,
    Priority.LOW: 2,
    Priority.LOWEST: 1,
    Priority.NONE: 0,
}


def _iso(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _days(later: date, earlier: date | None) -> int:
    return (later - earlier).days if earlier is not None else 0


def _item(facts: Facts) -> ItemFacts:
    if not isinstance(facts, ItemFacts):
        raise TypeError(f"item context built from {type(facts).__name__}")
    return facts


def _milestone(facts: Facts) -> MilestoneFacts:
    if not isinstance(facts, MilestoneFacts):
        raise TypeError(f"milestone context built from {type(facts).__name__}")
    return facts


def _project(facts: Facts) -> ProjectFacts:
    if not isinstance(facts, ProjectFacts):
        raise TypeError(f"project context built from {type(facts).__name__}")
    return facts


def _commitment(facts: Facts) -> Commitment | None:
    return facts.commitment if isinstance(facts, ItemFacts | MilestoneFacts) else None


def whole_facts(facts: Facts) -> Facts:
    return facts


def _hours(seconds: int | None) -> float:
    return seconds / 3600 if seconds else 0.0


def _f(cel_type: str, get: Callable[[S, Env], CelValue], *, volatile: bool = False) -> ContextField[S]:
    return ContextField(cel_type, get, volatile)


ITEM_FIELDS: Mapping[str, ContextField[ItemFacts]] = {
    "id": _f("int", lambda f, e: f.item.id or 0),
    "key": _f("string", lambda f, e: f.item.key),
    "title": _f("string", lambda f, e: f.item.title),
    "kind": _f("string", lambda f, e: f.item.kind.value),
    "status": _f("string", lambda f, e: f.item.status),
    "status_category": _f("string", lambda f, e: f.item.status_category.value),
    "priority": _f("string", lambda f, e: f.item.priority.value),
    "priority_rank": _f("int", lambda f, e: _PRIORITY_RANK[f.item.priority]),
    "assignee": _f("string", lambda f, e: a.display_name if (a := f.item.assignee) else ""),
    "assigned": _f("bool", lambda f, e: f.item.assignee is not None),
    "labels": _f("list<string>", lambda f, e: tuple(f.item.labels)),
    "components": _f("list<string>", lambda f, e: tuple(f.item.components)),
    "project": _f("string", lambda f, e: f.item.project_external_id),
    "parent": _f("string", lambda f, e: f.item.parent_external_id or ""),
    "milestones": _f("list<string>", lambda f, e: tuple(f.item.milestone_external_ids)),
    "has_due_date": _f("bool", lambda f, e: f.item.due_date is not None),
    "due_date": _f("string", lambda f, e: _iso(f.item.due_date)),
    "days_until_due": _f("int", lambda f, e: -_days(e.today, f.item.due_date), volatile=True),
    "days_overdue": _f("int", lambda f, e: f.item.days_overdue(e.today), volatile=True),
    "is_done": _f("bool", lambda f, e: f.item.is_done),
    "blocked": _f("bool", lambda f, e: f.item.blocked),
    "days_blocked": _f(
        "int",
        lambda f, e: (e.now - s).days if (s := f.blocked_since) and f.item.blocked else 0,
        volatile=True,
    ),
    "days_since_activity": _f("int", lambda f, e: (e.now - f.last_activity_at).days, volatile=True),
    "days_in_progress": _f(
        "int", lambda f, e: (e.now - s).days if (s := f.in_progress_since) else 0, volatile=True
    ),
    "times_reopened": _f("int", lambda f, e: f.times_reopened),
    "age_days": _f("int", lambda f, e: (e.now - f.item.created_at).days, volatile=True),
    "story_points": _f("double", lambda f, e: float(f.item.story_points or 0.0)),
    "estimate_hours": _f("double", lambda f, e: _hours(f.item.estimate_seconds)),
    "spent_hours": _f("double", lambda f, e: _hours(f.item.spent_seconds)),
    "created_at": _f("timestamp", lambda f, e: f.item.created_at),
    "updated_at": _f("timestamp", lambda f, e: f.item.updated_at),
    "last_activity_at": _f("timestamp", lambda f, e: f.last_activity_at),
    "url": _f("string", lambda f, e: f.item.url or ""),
}


def _commitment_days_overdue(c: Commitment | None, env: Env) -> int:
    if c is None or c.delivered_at is not None:
        return 0
    return max(0, _days(env.today, c.current_date or c.baseline_date))


COMMITMENT_FIELDS: Mapping[str, ContextField[Commitment | None]] = {
    "exists": _f("bool", lambda c, e: c is not None),
    "baseline_date": _f("string", lambda c, e: _iso(c.baseline_date) if c else ""),
    "current_date": _f("string", lambda c, e: _iso(c.current_date) if c else ""),
    "promised_at": _f("timestamp", lambda c, e: c.promised_at if c else EPOCH),
    "move_count": _f("int", lambda c, e: len(c.moves) if c else 0),
    "slip_count": _f("int", lambda c, e: c.slip_count if c else 0),
    "slip_days": _f("int", lambda c, e: c.slip_days if c else 0),
    "delivered": _f("bool", lambda c, e: c is not None and c.delivered_at is not None),
    "outcome": _f("string", lambda c, e: c.outcome(e.today).value if c else "", volatile=True),
    "days_overdue": _f("int", _commitment_days_overdue, volatile=True),
}


def _sprint_count(facts: MilestoneFacts, attribute: str) -> int:
    sprint = facts.sprint
    return len(getattr(sprint, attribute)) if sprint is not None else 0


def _avg(values: tuple[int, ...]) -> float:
    return sum(values) / len(values) if values else 0.0


MILESTONE_FIELDS: Mapping[str, ContextField[MilestoneFacts]] = {
    "id": _f("int", lambda f, e: f.milestone.id or 0),
    "key": _f("string", lambda f, e: f.milestone.external_id),
    "name": _f("string", lambda f, e: f.milestone.name),
    "kind": _f("string", lambda f, e: f.milestone.kind.value),
    "project": _f("string", lambda f, e: f.milestone.project_external_id),
    "has_due_date": _f("bool", lambda f, e: f.milestone.due_date is not None),
    "due_date": _f("string", lambda f, e: _iso(f.milestone.due_date)),
    "start_date": _f("string", lambda f, e: _iso(f.milestone.start_date)),
    "days_until_due": _f("int", lambda f, e: -_days(e.today, f.milestone.due_date), volatile=True),
    "released": _f("bool", lambda f, e: f.milestone.released),
    "items_total": _f("int", lambda f, e: f.items_total),
    "items_done": _f("int", lambda f, e: f.items_done),
    "items_open": _f("int", lambda f, e: f.items_open),
    "items_blocked": _f("int", lambda f, e: f.items_blocked),
    "items_overdue": _f("int", lambda f, e: f.items_overdue),
    "percent_done": _f(
        "double",
        lambda f, e: 100.0 * m.items_done / m.items_total if (m := f).items_total else 0.0,
    ),
    "scope_added_after_promise": _f("int", lambda f, e: len(f.scope_added_after_promise)),
    "is_sprint": _f("bool", lambda f, e: f.sprint is not None),
    "added_after_start": _f("int", lambda f, e: _sprint_count(f, "added_after_start")),
    "carried_over": _f("int", lambda f, e: _sprint_count(f, "carried_over")),
    "elapsed_fraction": _f(
        "double",
        lambda f, e: s.elapsed_fraction(e.today) if (s := f.sprint) else 0.0,
        volatile=True,
    ),
    "weekly_throughput": _f("list<int>", lambda f, e: tuple(f.weekly_throughput)),
    "avg_weekly_throughput": _f("double", lambda f, e: _avg(f.weekly_throughput)),
}


def _on_time_rate(p: ProjectFacts, env: Env) -> float:
    ended = p.commitments_met + p.commitments_missed
    return p.commitments_met / ended if ended else 1.0


PROJECT_FIELDS: Mapping[str, ContextField[ProjectFacts]] = {
    "id": _f("int", lambda f, e: f.project.id or 0),
    "key": _f("string", lambda f, e: f.project.key),
    "name": _f("string", lambda f, e: f.project.name),
    "items_total": _f("int", lambda f, e: f.items_total),
    "items_done": _f("int", lambda f, e: f.items_done),
    "items_open": _f("int", lambda f, e: (p := f).items_total - p.items_done),
    "items_overdue": _f("int", lambda f, e: f.items_overdue),
    "items_blocked": _f("int", lambda f, e: f.items_blocked),
    "items_unassigned": _f("int", lambda f, e: f.items_unassigned),
    "milestones_total": _f("int", lambda f, e: f.milestones_total),
    "milestones_overdue": _f("int", lambda f, e: f.milestones_overdue),
    "commitments_open": _f("int", lambda f, e: f.commitments_open),
    "commitments_missed": _f("int", lambda f, e: f.commitments_missed),
    "commitments_met": _f("int", lambda f, e: f.commitments_met),
    "on_time_rate": _f("double", _on_time_rate),
    "weekly_throughput": _f("list<int>", lambda f, e: tuple(f.weekly_throughput)),
    "avg_weekly_throughput": _f("double", lambda f, e: _avg(f.weekly_throughput)),
}

GLOBAL_FIELDS: Mapping[str, ContextField[Facts]] = {
    "now": _f("timestamp", lambda f, e: e.now, volatile=True),
    "today": _f("string", lambda f, e: e.today.isoformat(), volatile=True),
}

_ITEM_NS = Namespace(_item, ITEM_FIELDS)
_COMMITMENT_NS = Namespace(_commitment, COMMITMENT_FIELDS)
_MILESTONE_NS = Namespace(_milestone, MILESTONE_FIELDS)
_PROJECT_NS = Namespace(_project, PROJECT_FIELDS)

# Per subject kind: namespace variable -> where it comes from and its fields. Top-level scalars
# (now, today) live in GLOBAL_FIELDS.
NAMESPACES: Mapping[FlagSubject, Mapping[str, Namespace[Any]]] = {
    FlagSubject.ITEM: {"item": _ITEM_NS, "commitment": _COMMITMENT_NS},
    FlagSubject.MILESTONE: {"milestone": _MILESTONE_NS, "commitment": _COMMITMENT_NS},
    FlagSubject.PROJECT: {"project": _PROJECT_NS},
}
