"""Backtest: replay stored history, then score every flag against what happened later.

The replay is the dry run's: at each instant every item, milestone and project is rebuilt from its
changelog as it stood then, and the rule set is evaluated as if it were that moment. A flag is one
episode of a rule on a subject: raised at the first instant it is found, lasting while it is found
at every following instant (a change of evidence edits it, as push-back edits its comment).

The truth is the stored history as a whole (docs/BACKTEST.md has every definition, with a worked
example):

- a *promise* is a commitment of the ledger: a milestone's date (a version's release date, a
  sprint's end) or an item's due date, with its moves and its delivery;
- a promise is *missed after* an instant when the date in force then was not kept: the date was
  later moved later, or the delivery came after it, or it passed with nothing delivered; a sprint
  is delivered when it closes with all its items done;
- a flag on a milestone, or a promise rule's flag on an item, is about that subject's promise;
  any other item flag is about the promises the item belonged to when raised (its own due date,
  its milestones). A flag is *earned* when one of those promises was missed after it was raised,
  *pending* when none is decided yet, and *without promise* when the item belonged to none; an
  operator's acknowledgement makes a flag earned and a `false_positive` dismissal makes it not;
- a promise missed in the window counts for recall when a flag about it was raised before its
  broken date, and before the move that broke it; the lead is the broken date minus that flag's day.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from service.domain.commitments import Commitment
from service.domain.enums import FlagSubject, MilestoneKind, Severity, StatusCategory, Visibility
from service.domain.ledger import (
    MILESTONE_PROMISE_FIELD,
    build_item_commitment,
    build_milestone_commitment,
)
from service.rules.dryrun import (
    ItemFactsCache,
    ProjectHistory,
    facts_as_of,
    milestone_as_of,
    replay_instants,
)
from service.rules.engine import evaluate
from service.rules.facts import Facts, ItemFacts, MilestoneFacts
from service.rules.findings import Finding
from service.rules.ruleset import RuleSet

# Rules whose item flags are about the item's own promise (its due date), not the work around it.
PROMISE_RULES = frozenset(
    {
        "overdue_commitment",
        "promised_date_moved",
        "forecast_misses_promise",
        "forecast_misses_due_date",
        "due_soon_not_started",
    }
)

PromiseKey = tuple[FlagSubject, int, str]  # subject kind, source id, item key or milestone id
SubjectKey = tuple[FlagSubject, int, str]
EpisodeKey = tuple[str, SubjectKey, datetime]  # rule, subject, raised at: one flag


class Label(StrEnum):
    """What an operator said of a flag: acknowledged is right, a false-positive dismissal wrong."""

    EARNED = "earned"
    NOT_EARNED = "not_earned"


class BacktestError(ValueError):
    """The window holds nothing to score: no history, or no instant in it."""


@dataclass(frozen=True, slots=True)
class Promise:
    key: PromiseKey
    label: str
    commitment: Commitment
    delivered_at: datetime | None

    def date_at(self, at: datetime) -> date | None:
        """The date in force at `at`; None before the promise was made."""
        c = self.commitment
        if at < c.promised_at:
            return None
        current: date | None = c.baseline_date
        for move in c.moves:
            if move.moved_at <= at:
                current = move.to_date
        return current

    def missed_after(self, at: datetime, until: datetime) -> bool | None:
        """Whether the date in force at `at` was not kept: True, False, or None while undecided."""
        promised = self.date_at(at)
        if promised is None:
            return None
        for move in self.commitment.moves:
            later = move.to_date is not None and move.to_date > promised
            if at < move.moved_at <= until and later:
                return True
        if self.delivered_at is not None and self.delivered_at <= until:
            return self.delivered_at.date() > promised
        return True if until.date() > promised else None

    def broken(self, since: datetime, until: datetime) -> tuple[date, datetime] | None:
        """The first date of this promise broken within the window: (the date, when it broke)."""
        c = self.commitment
        segments: list[tuple[date | None, datetime]] = [(c.baseline_date, c.promised_at)]
        segments += [(m.to_date, m.moved_at) for m in c.moves]
        for index, (promised, _start) in enumerate(segments):
            if promised is None:
                continue
            end_of_day = datetime.combine(promised + timedelta(days=1), time.min, tzinfo=UTC)
            following = segments[index + 1] if index + 1 < len(segments) else None
            if following is not None:
                later, moved_at = following
                if later is None or later <= promised:
                    continue
                broke_at = min(moved_at, end_of_day)
            elif self.delivered_at is not None and self.delivered_at <= until:
                if self.delivered_at.date() <= promised:
                    return None
                broke_at = end_of_day
            elif until >= end_of_day:
                broke_at = end_of_day
            else:
                return None
            if since < broke_at <= until:
                return promised, broke_at
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Episode:
    rule: str
    subject: SubjectKey
    raised_at: datetime
    promises: tuple[tuple[PromiseKey, date], ...]  # each promise it is about, with its date then
    push: bool
    baseline: bool = False
    ended_at: datetime | None = None
    project: tuple[int, str] | None = None  # source id, project external id: push-back's budget's
    # Each severity the flag stood at, lowest first, with the first instant it did.
    reached: tuple[tuple[Severity, datetime], ...] = ()

    @property
    def key(self) -> EpisodeKey:
        return (self.rule, self.subject, self.raised_at)

    def rank_by(self, day: date) -> int:
        """The rank of the highest severity the flag had reached by the end of `day` (-1: none)."""
        return max((_SEVERITY_RANK[s] for s, at in self.reached if at.date() <= day), default=-1)

    def eligible_at(self, min_severity: Severity) -> datetime | None:
        """When the flag first stood at `min_severity` or above (None: never)."""
        floor = _SEVERITY_RANK[min_severity]
        return min((at for s, at in self.reached if _SEVERITY_RANK[s] >= floor), default=None)


_SEVERITY_RANK: Mapping[Severity, int] = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True, slots=True)
class PushModel:
    """The push-back policy the backtest counts comments under: at most `max_per_day` first
    comments a day per project (None: no budget), only for flags at `min_severity` or above, of
    rules whose precision in this backtest is `min_precision` or more (or undecided); what waits is
    posted on a later day if the flag is still open, highest severity first, then oldest."""

    max_per_day: int | None = None
    min_severity: Severity = Severity.INFO
    min_precision: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """A naive rule scored beside the real ones, so each gain is a ratio."""

    name: str
    description: str
    check: Callable[[ItemFacts | MilestoneFacts, date], bool]


def _past_due(facts: ItemFacts | MilestoneFacts, today: date) -> bool:
    return isinstance(facts, ItemFacts) and facts.item.days_overdue(today) > 0


def _due_within_7_days(facts: ItemFacts | MilestoneFacts, today: date) -> bool:
    if not isinstance(facts, ItemFacts) or facts.item.due_date is None or not _active(facts):
        return False
    return 0 <= (facts.item.due_date - today).days <= 7


def _in_progress_over_5_days(facts: ItemFacts | MilestoneFacts, today: date) -> bool:
    if not isinstance(facts, ItemFacts) or facts.in_progress_since is None:
        return False
    if facts.item.status_category is not StatusCategory.IN_PROGRESS:
        return False
    return (today - facts.in_progress_since.date()).days > 5


def _open_work_a_week_before(facts: ItemFacts | MilestoneFacts, today: date) -> bool:
    if not isinstance(facts, MilestoneFacts) or facts.commitment is None:
        return False
    c = facts.commitment
    if c.delivered_at is not None or c.current_date is None or facts.milestone.completed_at is not None:
        return False
    return facts.items_open > 0 and (c.current_date - today).days <= 7


BASELINES: tuple[Baseline, ...] = (
    Baseline(name="past_due_items", description="every open item past its due date", check=_past_due),
    Baseline(
        name="due_within_7_days",
        description="every open item due in 7 days or less",
        check=_due_within_7_days,
    ),
    Baseline(
        name="in_progress_over_5_days",
        description="every item in progress for more than 5 days",
        check=_in_progress_over_5_days,
    ),
    Baseline(
        name="open_work_7_days_before_date",
        description="every milestone with open items 7 days or less before its date",
        check=_open_work_a_week_before,
    ),
)


# The naive rule each built-in rule is measured against: the one that looks at the same thing.
# Item flags scored on the item's own due date alone: the promise rules, and the naive rules that
# look at that date, so a rule and its baseline are scored alike.
ABOUT_OWN_DATE = PROMISE_RULES | {"past_due_items", "due_within_7_days"}
BASELINE_FOR: Mapping[str, str] = {
    "overdue_commitment": "past_due_items",
    "due_soon_not_started": "due_within_7_days",
    "forecast_misses_due_date": "due_within_7_days",
    "unassigned_high_priority": "in_progress_over_5_days",
    "stale_in_progress": "in_progress_over_5_days",
    "blocked_too_long": "in_progress_over_5_days",
    "reopened_after_done": "in_progress_over_5_days",
    "forecast_misses_promise": "open_work_7_days_before_date",
    "promised_date_moved": "open_work_7_days_before_date",
    "scope_added_after_promise": "open_work_7_days_before_date",
    "sprint_commitment_slipping": "open_work_7_days_before_date",
}
# A custom rule's, by the kind of subject it applies to.
BASELINE_FOR_KIND: Mapping[FlagSubject, str] = {
    FlagSubject.ITEM: "in_progress_over_5_days",
    FlagSubject.MILESTONE: "open_work_7_days_before_date",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    name: str
    flags: int
    earned: int
    not_earned: int
    pending: int
    without_promise: int
    precision: float | None
    recall: float | None
    median_lead_days: float | None
    median_lead_working_days: float | None
    comments: int
    open_flags_per_100_items: float
    promises_flagged_in_time: int
    baseline: str | None = None
    beats_baseline: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestReport:
    since: datetime
    until: datetime
    step: timedelta
    instants: int
    mean_active_items: float
    promises_missed: int
    rules: tuple[Score, ...]
    overall: Score
    promise_level: Score
    baselines: tuple[Score, ...]
    descriptions: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        weeks = max((self.until - self.since) / timedelta(days=7), 1 / 7)
        per_week = self.overall.comments / max(self.mean_active_items, 1.0) * 100 / weeks

        def rule(s: Score) -> dict[str, object]:
            return {
                "rule": s.name,
                "flags": s.flags,
                "earned": s.earned,
                "not_earned": s.not_earned,
                "pending": s.pending,
                "without_promise": s.without_promise,
                "precision": s.precision,
                "recall": s.recall,
                "median_lead_days": s.median_lead_days,
                "median_lead_working_days": s.median_lead_working_days,
                "comments": s.comments,
                "open_flags_per_100_items": s.open_flags_per_100_items,
                "baseline": s.baseline,
                "beats_baseline": s.beats_baseline,
            }

        return {
            "window": {
                "since": self.since.isoformat(),
                "until": self.until.isoformat(),
                "step": _duration_text(self.step),
            },
            "rules": [rule(s) for s in self.rules],
            "overall": {
                "precision": self.overall.precision,
                "recall": self.overall.recall,
                "median_lead_days": self.overall.median_lead_days,
                "median_lead_working_days": self.overall.median_lead_working_days,
                "open_flags_per_100_items": self.overall.open_flags_per_100_items,
                "comments_per_100_items_per_week": round(per_week, 3),
                "promises_missed": self.promises_missed,
                "promises_flagged_in_time": self.overall.promises_flagged_in_time,
                "flags": self.overall.flags,
                "comments": self.overall.comments,
                "instants": self.instants,
                "mean_active_items": round(self.mean_active_items, 1),
            },
            "promise_level": {
                "precision": self.promise_level.precision,
                "recall": self.promise_level.recall,
                "median_lead_days": self.promise_level.median_lead_days,
                "median_lead_working_days": self.promise_level.median_lead_working_days,
                "flags": self.promise_level.flags,
                "promises_flagged_in_time": self.promise_level.promises_flagged_in_time,
            },
            "baselines": [
                {
                    "name": s.name,
                    "description": self.descriptions.get(s.name, ""),
                    "precision": s.precision,
                    "recall": s.recall,
                    "open_flags_per_100_items": s.open_flags_per_100_items,
                    "flags": s.flags,
                    "median_lead_days": s.median_lead_days,
                }
                for s in self.baselines
            ],
        }


def _duration_text(step: timedelta) -> str:
    seconds = int(step.total_seconds())
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400}d"
    if seconds % 3_600 == 0:
        return f"{seconds // 3_600}h"
    return f"{seconds}s"


def working_days_between(first: date, last: date) -> int:
    """Monday-to-Friday days from `first` (excluded) to `last` (included); negative when before."""
    if last < first:
        return -working_days_between(last, first)
    whole_weeks, rest = divmod((last - first).days, 7)
    days = whole_weeks * 5
    for offset in range(1, rest + 1):
        if (first + timedelta(days=offset)).weekday() < 5:
            days += 1
    return days


def _sprint_delivered_at(
    milestone_id: str, completed_at: datetime, history: ProjectHistory
) -> datetime | None:
    """A sprint is delivered when it closes with every item it held done; else never."""
    for entry in history.items:
        item = entry.item
        if milestone_id not in item.milestone_external_ids or item.visibility is Visibility.DELETED:
            continue
        if item.resolved_at is None or item.resolved_at > completed_at or not item.is_done:
            return None
    return completed_at


def collect_promises(histories: Sequence[ProjectHistory], *, until: datetime) -> dict[PromiseKey, Promise]:
    """Every promise in the stored history, as it ended (or stood at `until`)."""
    promises: dict[PromiseKey, Promise] = {}
    for history in histories:
        for entry in history.items:
            item = entry.item
            if item.id is None:
                continue
            commitment = build_item_commitment(
                item, entry.changes, promise_field=history.config.promise_field
            )
            if commitment is None:
                continue
            key: PromiseKey = (FlagSubject.ITEM, item.source_id, item.key)
            delivered = commitment.delivered_at
            promises[key] = Promise(key=key, label=item.key, commitment=commitment, delivered_at=delivered)
        for recorded in history.milestones:
            milestone = milestone_as_of(recorded, until)
            if milestone is None or milestone.id is None:
                continue
            past = [c for c in recorded.changes if c.changed_at <= until]
            commitment = build_milestone_commitment(
                milestone, past, created_at=recorded.created_at, promise_field=MILESTONE_PROMISE_FIELD
            )
            if commitment is None:
                continue
            delivered = commitment.delivered_at
            if milestone.kind is MilestoneKind.SPRINT and milestone.completed_at is not None:
                delivered = _sprint_delivered_at(milestone.external_id, milestone.completed_at, history)
            key = (FlagSubject.MILESTONE, milestone.source_id, milestone.external_id)
            promises[key] = Promise(
                key=key, label=milestone.name, commitment=commitment, delivered_at=delivered
            )
    return promises


def _promises_of(
    rule: str,
    facts: ItemFacts | MilestoneFacts,
    promises: Mapping[PromiseKey, Promise],
    at: datetime,
) -> tuple[tuple[PromiseKey, date], ...]:
    """The promises a flag raised at `at` on `facts` is about, each with the date in force then."""
    keys: list[PromiseKey]
    if isinstance(facts, MilestoneFacts):
        keys = [(FlagSubject.MILESTONE, facts.milestone.source_id, facts.milestone.external_id)]
    else:
        source = facts.item.source_id
        keys = [(FlagSubject.ITEM, source, facts.key)]
        if rule not in ABOUT_OWN_DATE:
            keys += [(FlagSubject.MILESTONE, source, m) for m in facts.item.milestone_external_ids]
    out: list[tuple[PromiseKey, date]] = []
    for key in keys:
        promise = promises.get(key)
        promised = promise.date_at(at) if promise is not None else None
        if promised is not None:
            out.append((key, promised))
    return tuple(out)


def _project_group_members(finding: Finding) -> list[SubjectKey]:
    """The items a project flag groups; [] for any other flag."""
    if finding.subject.kind is not FlagSubject.PROJECT or finding.evidence.get("grouped") is not True:
        return []
    keys = finding.evidence.get("item_keys")
    if not isinstance(keys, list):
        return []
    source = finding.subject.source_id
    return [(FlagSubject.ITEM, source, str(key)) for key in keys]


def _subject_of(facts: Facts) -> SubjectKey | None:
    if isinstance(facts, ItemFacts):
        return (FlagSubject.ITEM, facts.item.source_id, facts.key)
    if isinstance(facts, MilestoneFacts):
        return (FlagSubject.MILESTONE, facts.milestone.source_id, facts.key)
    return None


def _active(facts: Facts) -> bool:
    return (
        isinstance(facts, ItemFacts)
        and not facts.item.is_done
        and facts.item.visibility is Visibility.VISIBLE
    )


@dataclass
class _Tracker:
    """Open episodes by (name, subject) and the finished ones."""

    episodes: list[Episode] = field(default_factory=list)
    open: dict[tuple[str, SubjectKey], Episode] = field(default_factory=dict)
    # Per open episode: the first instant of each severity it reached.
    reached: dict[tuple[str, SubjectKey], dict[Severity, datetime]] = field(default_factory=dict)
    open_counts: dict[str, int] = field(default_factory=dict)
    promise_level_open: int = 0

    def step(
        self,
        seen: Mapping[tuple[str, SubjectKey], tuple[Callable[[], Episode], Severity]],
        at: datetime,
        shown: Mapping[tuple[str, SubjectKey], bool] | None = None,
    ) -> None:
        """Moves to instant `at`: `seen` are the claims found then, each scored as one episode;
        `shown` the flags an operator would see then, each with whether it is about a promise (by
        default, one per claim). They differ where one project flag groups several items."""
        for key in list(self.open):
            if key not in seen:
                self.episodes.append(self._closed(key, ended_at=at))
        for key, (make, severity) in seen.items():
            if key not in self.open:
                self.open[key] = make()
                self.reached[key] = {}
            self.reached[key].setdefault(severity, at)
        if shown is None:
            shown = {key: _promise_level(episode) for key, episode in self.open.items()}
        for (name, _subject), promise_level in shown.items():
            self.open_counts[name] = self.open_counts.get(name, 0) + 1
            self.promise_level_open += promise_level

    def finish(self) -> list[Episode]:
        return self.episodes + [self._closed(key, ended_at=None) for key in list(self.open)]

    def _closed(self, key: tuple[str, SubjectKey], *, ended_at: datetime | None) -> Episode:
        episode = self.open.pop(key)
        reached = sorted(self.reached.pop(key).items(), key=lambda entry: _SEVERITY_RANK[entry[0]])
        return dataclasses.replace(episode, ended_at=ended_at, reached=tuple(reached))


@dataclass(slots=True, kw_only=True)
class Replay:
    """What a replay of some projects saw: its flags, baselines' flags, and what was open when.

    Projects replay independently, so a replay of all of them is the `merge` of replays of parts.
    """

    instants: int
    promises: dict[PromiseKey, Promise]
    episodes: list[Episode]
    baseline_episodes: list[Episode]
    open_counts: dict[str, int]
    baseline_open_counts: dict[str, int]
    promise_level_open: int
    active_total: int
    created: list[datetime]


def check_window(since: datetime, until: datetime, step: timedelta, created: Sequence[datetime]) -> None:
    """Raises BacktestError when the window has nothing to score; `created` are the items' creations."""
    if not list(replay_instants(since, until, step)):
        raise BacktestError("the window holds no instant: since must be before until")
    if not created:
        raise BacktestError("no stored history: sync a source first, then backtest")
    first = min(created)
    if first > until:
        raise BacktestError(
            f"the window holds no history: nothing stored existed by {until.isoformat()} "
            f"(the first item was created {first.isoformat()})"
        )


def replay(
    rule_set: RuleSet,
    histories: Sequence[ProjectHistory],
    *,
    since: datetime,
    until: datetime,
    step: timedelta = timedelta(days=1),
    baselines: Sequence[Baseline] = BASELINES,
    progress: Callable[[int, int], None] | None = None,
) -> Replay:
    """Replay `histories` from `since` to `until` every `step`: the rules' and baselines' flags."""
    instants = list(replay_instants(since, until, step))
    promises = collect_promises(histories, until=until)
    tracker = _Tracker()
    base_tracker = _Tracker()
    active_total = 0
    cache = ItemFactsCache()
    for done, at in enumerate(instants, start=1):
        batch = [f for history in histories for f in facts_as_of(history, at, cache=cache)]
        by_subject = {key: f for f in batch if (key := _subject_of(f)) is not None}
        active_total += sum(1 for f in batch if _active(f))
        seen: dict[tuple[str, SubjectKey], tuple[Callable[[], Episode], Severity]] = {}
        shown: dict[tuple[str, SubjectKey], bool] = {}
        for finding in evaluate(rule_set, batch, now=at):
            subject: SubjectKey = (finding.subject.kind, finding.subject.source_id, finding.subject.key)
            shown[(finding.rule_id, subject)] = (
                subject[0] is FlagSubject.MILESTONE or finding.rule_id in PROMISE_RULES
            )
            # A project flag grouping items is scored as its items' claims, each on its own
            # promises; none of them gets a comment (push-back comments on item flags only).
            members = _project_group_members(finding)
            push = finding.push_to_jira and not members
            for claim in members or [subject]:
                seen[(finding.rule_id, claim)] = (
                    _episode_maker(finding.rule_id, claim, by_subject.get(claim), promises, at, push=push),
                    finding.severity,
                )
        tracker.step(seen, at, shown)
        today = at.date()
        base_seen: dict[tuple[str, SubjectKey], tuple[Callable[[], Episode], Severity]] = {}
        for subject, facts in by_subject.items():
            if not isinstance(facts, ItemFacts | MilestoneFacts):
                continue
            for baseline in baselines:
                if baseline.check(facts, today):
                    base_seen[(baseline.name, subject)] = (
                        _episode_maker(
                            baseline.name, subject, facts, promises, at, push=False, baseline=True
                        ),
                        Severity.WARNING,
                    )
        base_tracker.step(base_seen, at)
        if progress is not None:
            progress(done, len(instants))
    return Replay(
        instants=len(instants),
        promises=promises,
        episodes=tracker.finish(),
        baseline_episodes=base_tracker.finish(),
        open_counts=tracker.open_counts,
        baseline_open_counts=base_tracker.open_counts,
        promise_level_open=tracker.promise_level_open,
        active_total=active_total,
        created=[entry.item.created_at for h in histories for entry in h.items],
    )


def merge(replays: Sequence[Replay]) -> Replay:
    """One replay of the projects of `replays`, each of the same window."""
    merged = Replay(
        instants=replays[0].instants if replays else 0,
        promises={},
        episodes=[],
        baseline_episodes=[],
        open_counts={},
        baseline_open_counts={},
        promise_level_open=0,
        active_total=0,
        created=[],
    )
    for part in replays:
        merged.promises.update(part.promises)
        merged.episodes.extend(part.episodes)
        merged.baseline_episodes.extend(part.baseline_episodes)
        for name, count in part.open_counts.items():
            merged.open_counts[name] = merged.open_counts.get(name, 0) + count
        for name, count in part.baseline_open_counts.items():
            merged.baseline_open_counts[name] = merged.baseline_open_counts.get(name, 0) + count
        merged.promise_level_open += part.promise_level_open
        merged.active_total += part.active_total
        merged.created.extend(part.created)
    return merged


def score(
    rule_set: RuleSet,
    played: Replay,
    *,
    since: datetime,
    until: datetime,
    step: timedelta,
    labels: Mapping[tuple[str, SubjectKey], Label] | None = None,
    baselines: Sequence[Baseline] = BASELINES,
    push: PushModel = PushModel(),
) -> BacktestReport:
    """Score a replay's flags against what the history shows happened later; comments are those
    push-back would have posted under `push`."""
    instants = max(played.instants, 1)
    mean_active = played.active_total / instants
    promises = played.promises
    missed = {
        key: broken
        for key, promise in promises.items()
        if (broken := promise.broken(since, until)) is not None
    }
    episodes = played.episodes
    verdicts = labels or {}
    rule_names = sorted({e.rule for e in episodes} | set(_rule_ids(rule_set)))
    posted: frozenset[EpisodeKey] = frozenset()

    def scored(name: str, chosen: list[Episode], counts: int) -> Score:
        return _score(name, chosen, counts, promises, missed, verdicts, until, instants, mean_active, posted)

    # Push-back trusts a rule by its precision, so comments are counted once precisions are known.
    precisions = {
        name: scored(name, [e for e in episodes if e.rule == name], 0).precision for name in rule_names
    }
    trusted = [e for e in episodes if (p := precisions.get(e.rule)) is None or p >= push.min_precision]
    posted = posted_comments(trusted, push, until=until)

    baseline_scores = tuple(
        scored(
            b.name,
            [e for e in played.baseline_episodes if e.rule == b.name],
            played.baseline_open_counts.get(b.name, 0),
        )
        for b in baselines
    )
    by_name = {b.name: b for b in baseline_scores}
    baseline_of = _baselines_of(rule_set)
    rules = tuple(
        _against(
            scored(name, [e for e in episodes if e.rule == name], played.open_counts.get(name, 0)),
            by_name.get(baseline_of.get(name, "")),
        )
        for name in rule_names
    )
    overall = scored("overall", episodes, sum(played.open_counts.values()))
    promise_level = scored(
        "promise_level", [e for e in episodes if _promise_level(e)], played.promise_level_open
    )
    return BacktestReport(
        since=since,
        until=until,
        step=step,
        instants=played.instants,
        mean_active_items=mean_active,
        promises_missed=len(missed),
        rules=rules,
        overall=overall,
        promise_level=promise_level,
        baselines=baseline_scores,
        descriptions={b.name: b.description for b in baselines},
    )


def backtest(
    rule_set: RuleSet,
    histories: Sequence[ProjectHistory],
    *,
    since: datetime,
    until: datetime,
    step: timedelta = timedelta(days=1),
    labels: Mapping[tuple[str, SubjectKey], Label] | None = None,
    baselines: Sequence[Baseline] = BASELINES,
    push: PushModel = PushModel(),
    progress: Callable[[int, int], None] | None = None,
) -> BacktestReport:
    """Replay `histories` from `since` to `until` every `step`, and score each rule and baseline.

    `labels` are operators' verdicts on flags by (rule, subject); they override the history's.
    Raises BacktestError when there is nothing to score.
    """
    check_window(since, until, step, [entry.item.created_at for h in histories for entry in h.items])
    played = replay(
        rule_set, histories, since=since, until=until, step=step, baselines=baselines, progress=progress
    )
    return score(
        rule_set, played, since=since, until=until, step=step, labels=labels, baselines=baselines, push=push
    )


def posted_comments(
    episodes: Sequence[Episode], model: PushModel, *, until: datetime
) -> frozenset[EpisodeKey]:
    """The flags push-back would have posted a first comment for under `model`, day by day: a flag
    may go from the day it first stands at the minimum severity; each project's day takes at most
    `max_per_day` of those waiting, highest severity first, then oldest; a flag that has resolved by
    a day's end no longer waits."""
    by_project: dict[tuple[int, str] | None, list[tuple[datetime, Episode]]] = {}
    for episode in episodes:
        eligible = episode.eligible_at(model.min_severity) if episode.push else None
        if eligible is not None:
            by_project.setdefault(episode.project, []).append((eligible, episode))
    posted: set[EpisodeKey] = set()
    for candidates in by_project.values():
        if model.max_per_day is None:
            posted.update(e.key for _, e in candidates)
            continue
        candidates.sort(key=lambda c: c[0])
        waiting: list[Episode] = []
        nxt = 0
        day = candidates[0][0].date()
        while day <= until.date() and (nxt < len(candidates) or waiting):
            while nxt < len(candidates) and candidates[nxt][0].date() <= day:
                waiting.append(candidates[nxt][1])
                nxt += 1
            waiting = [e for e in waiting if e.ended_at is None or e.ended_at.date() > day]
            waiting.sort(key=lambda e: (-e.rank_by(day), e.raised_at))
            posted.update(e.key for e in waiting[: model.max_per_day])
            waiting = waiting[model.max_per_day :]
            day += timedelta(days=1)
            if not waiting and nxt < len(candidates):
                day = max(day, candidates[nxt][0].date())
    return frozenset(posted)


def _baselines_of(rule_set: RuleSet) -> dict[str, str]:
    found = dict(BASELINE_FOR)
    for rule in rule_set.custom_rules:
        baseline = BASELINE_FOR_KIND.get(rule.applies_to)
        if baseline is not None:
            found[rule.id] = baseline
    return found


def _against(rule: Score, baseline: Score | None) -> Score:
    """The rule's score with its naive baseline named, and whether it is more precise."""
    if baseline is None:
        return rule
    beats = None
    if rule.precision is not None and baseline.precision is not None:
        beats = rule.precision > baseline.precision
    return dataclasses.replace(rule, baseline=baseline.name, beats_baseline=beats)


def _rule_ids(rule_set: RuleSet) -> Iterable[str]:
    for kind in FlagSubject:
        yield from rule_set.active_rule_ids(kind)


def _promise_level(episode: Episode) -> bool:
    return episode.subject[0] is FlagSubject.MILESTONE or episode.rule in PROMISE_RULES


def _episode_maker(
    name: str,
    subject: SubjectKey,
    facts: Facts | None,
    promises: Mapping[PromiseKey, Promise],
    at: datetime,
    *,
    push: bool,
    baseline: bool = False,
) -> Callable[[], Episode]:
    def make() -> Episode:
        about = (
            _promises_of(name, facts, promises, at) if isinstance(facts, ItemFacts | MilestoneFacts) else ()
        )
        return Episode(
            rule=name,
            subject=subject,
            raised_at=at,
            promises=about,
            push=push and subject[0] is FlagSubject.ITEM,
            baseline=baseline,
            project=(subject[1], facts.item.project_external_id) if isinstance(facts, ItemFacts) else None,
        )

    return make


def _score(
    name: str,
    episodes: list[Episode],
    open_count: int,
    promises: Mapping[PromiseKey, Promise],
    missed: Mapping[PromiseKey, tuple[date, datetime]],
    labels: Mapping[tuple[str, SubjectKey], Label],
    until: datetime,
    instants: int,
    mean_active: float,
    posted: frozenset[EpisodeKey],
) -> Score:
    earned = not_earned = pending = without = 0
    first_in_time: dict[PromiseKey, datetime] = {}
    for episode in episodes:
        label = labels.get((episode.rule, episode.subject))
        verdict: bool | None
        if label is not None:
            verdict = label is Label.EARNED
        elif not episode.promises:
            without += 1
            continue
        else:
            outcomes = [promises[key].missed_after(episode.raised_at, until) for key, _ in episode.promises]
            verdict = (
                True
                if any(o is True for o in outcomes)
                else None
                if any(o is None for o in outcomes)
                else False
            )
        if verdict is True:
            earned += 1
        elif verdict is False:
            not_earned += 1
        else:
            pending += 1
        for key, _promised in episode.promises:
            broken = missed.get(key)
            if broken is None:
                continue
            broken_date, broke_at = broken
            deadline = datetime.combine(broken_date, time.min, tzinfo=UTC)
            if episode.raised_at < min(deadline, broke_at + timedelta(microseconds=1)):
                seen = first_in_time.get(key)
                if seen is None or episode.raised_at < seen:
                    first_in_time[key] = episode.raised_at
    leads = [(missed[key][0] - at.date()).days for key, at in first_in_time.items()]
    working = [working_days_between(at.date(), missed[key][0]) for key, at in first_in_time.items()]
    decided = earned + not_earned
    return Score(
        name=name,
        flags=len(episodes),
        earned=earned,
        not_earned=not_earned,
        pending=pending,
        without_promise=without,
        precision=round(earned / decided, 3) if decided else None,
        recall=round(len(first_in_time) / len(missed), 3) if missed else None,
        median_lead_days=float(statistics.median(leads)) if leads else None,
        median_lead_working_days=float(statistics.median(working)) if working else None,
        comments=sum(1 for e in episodes if e.key in posted),
        open_flags_per_100_items=round(open_count / instants / max(mean_active, 1.0) * 100, 2),
        promises_flagged_in_time=len(first_in_time),
    )
