"""What the rules read: an item, milestone or project with the values derived from its history.

Facts are built by `service.rules.history` (items, also "as of" a past instant for the dry run)
and `service.rules.aggregate` (milestones and projects from their items' facts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from service.domain.commitments import Commitment
from service.domain.enums import StatusCategory
from service.domain.ledger import PROMISED_DATE_FIELD
from service.domain.work import Change, Milestone, Project, WorkItem


@dataclass(frozen=True, slots=True, kw_only=True)
class FactsConfig:
    """How a source's changelog reads: field names differ between Jira, Trello and custom fields."""

    promise_field: str = PROMISED_DATE_FIELD
    # Status name (case-folded) -> category; the store passes what it knows of the source's
    # workflow, since a changelog carries status names but not their categories.
    status_categories: Mapping[str, StatusCategory] = field(default_factory=dict)
    # Jira's fixVersions changelog adds or removes one version id per entry; its sprint field
    # carries the whole comma-separated list of sprint ids before and after.
    membership_fields: tuple[str, ...] = ("fix version", "fixversions", "sprint", "milestone")
    sprint_fields: tuple[str, ...] = ("sprint",)
    status_fields: tuple[str, ...] = ("status",)
    flagged_fields: tuple[str, ...] = ("flagged",)
    # "labels" (Jira): the whole space-separated list before and after; "label" (Trello): one
    # label added (to) or removed (from).
    label_fields: tuple[str, ...] = ("labels",)
    single_label_fields: tuple[str, ...] = ("label",)
    blocked_labels: tuple[str, ...] = ("blocked",)
    assignee_fields: tuple[str, ...] = ("assignee", "members")
    priority_fields: tuple[str, ...] = ("priority",)
    resolution_fields: tuple[str, ...] = ("resolution",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reopening:
    """A done item taken out of done: when it had been done (None when its changelog does not say)
    and when it was reopened."""

    done_at: datetime | None
    reopened_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Membership:
    """What the item belonged to from `since` until the next state: its milestones (sprints by their
    milestone ids, `sprint:<id>`) and whether it was done."""

    since: datetime
    milestone_ids: frozenset[str]
    done: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemFacts:
    item: WorkItem
    commitment: Commitment | None
    changes: tuple[Change, ...]  # this item's changes up to `as_of`, oldest first
    as_of: datetime | None  # None: the item as stored now; else reconstructed at that instant
    last_activity_at: datetime
    in_progress_since: datetime | None
    blocked_since: datetime | None
    done_at: datetime | None
    times_reopened: int
    last_reopened_at: datetime | None
    # Every reopening, oldest first, one per instant (`times_reopened` counts them).
    reopenings: tuple[Reopening, ...] = ()
    # Milestone external id -> when the item joined it (its creation when no change says).
    joined_milestones: Mapping[str, datetime]
    # The item's milestones and done-ness through time, oldest first, from its creation (the first
    # state) through each change of either: what sprint facts ask "as of" a sprint's start or close.
    memberships: tuple[Membership, ...] = ()
    data_as_of: datetime | None = None  # when the source was last synced: evidence, not logic
    # A done item's first move into progress: where its cycle time starts (None: never moved in).
    started_at: datetime | None = None

    @property
    def key(self) -> str:
        return self.item.key

    def membership_at(self, at: datetime) -> Membership | None:
        """The item's milestones and done-ness at `at` (None before it existed)."""
        found: Membership | None = None
        for state in self.memberships:
            if state.since > at:
                break
            found = state
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopeAddition:
    item_key: str
    added_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SprintFacts:
    start: date | None
    end: date | None
    items_at_start: tuple[str, ...]
    added_after_start: tuple[ScopeAddition, ...]
    carried_over: tuple[str, ...]

    def elapsed_fraction(self, today: date) -> float:
        if self.start is None or self.end is None or self.end <= self.start:
            return 0.0
        span = (self.end - self.start).days
        return min(1.0, max(0.0, (today - self.start).days / span))


@dataclass(frozen=True, slots=True, kw_only=True)
class MilestoneFacts:
    milestone: Milestone
    commitment: Commitment | None
    item_keys: tuple[str, ...]
    items_total: int
    items_done: int
    items_blocked: int
    items_overdue: int
    # Items completed in each of the last weeks before `as_of`, oldest first (the team's pace).
    weekly_throughput: tuple[int, ...]
    scope_added_after_promise: tuple[ScopeAddition, ...]
    sprint: SprintFacts | None
    as_of: datetime | None
    data_as_of: datetime | None = None

    @property
    def key(self) -> str:
        return self.milestone.external_id

    @property
    def items_open(self) -> int:
        return self.items_total - self.items_done


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectFacts:
    project: Project
    items_total: int
    items_done: int
    items_overdue: int
    items_blocked: int
    items_unassigned: int
    milestones_total: int
    milestones_overdue: int
    commitments_open: int
    commitments_missed: int
    commitments_met: int
    weekly_throughput: tuple[int, ...]
    as_of: datetime | None
    data_as_of: datetime | None = None

    @property
    def key(self) -> str:
        return self.project.key


Facts = ItemFacts | MilestoneFacts | ProjectFacts
