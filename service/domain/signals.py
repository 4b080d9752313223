"""What pmbridge concludes and tells: rule flags and client-visible feed events."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.domain.enums import (
    DismissReason,
    FeedEventKind,
    FlagHistoryKind,
    FlagState,
    FlagSubject,
    FlagTriage,
    Severity,
)
from service.domain.work import JSON


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """A rule's finding on one subject; at most one open flag per (rule, subject)."""

    id: int | None = None
    rule_id: str
    subject: FlagSubject
    subject_id: int
    severity: Severity
    state: FlagState = FlagState.OPEN
    message: str
    evidence: dict[str, JSON] = field(default_factory=dict)
    fingerprint: str
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None
    client_text: str | None = None
    published: bool = False
    # Push-back: the provider comment showing the flag, and the `fingerprint:state` it last showed.
    pushed_comment_id: str | None = None
    pushed_fingerprint: str | None = None
    # When the flag's comment was first posted (or reserved by a drain about to post it): what a
    # project's daily budget of new comments counts.
    comment_created_at: datetime | None = None
    # An operator's triage: what was said, by whom and when, a dismissal's reason and the evidence
    # it was about, a snooze's end.
    triage: FlagTriage | None = None
    triage_reason: DismissReason | None = None
    triaged_by: str | None = None
    triaged_at: datetime | None = None
    snoozed_until: datetime | None = None
    dismissed_fingerprint: str | None = None

    def triage_at(self, now: datetime) -> FlagTriage | None:
        """The triage in force at `now`: a snooze whose date passed is over."""
        if self.triage is FlagTriage.SNOOZED and (self.snoozed_until is None or self.snoozed_until <= now):
            return None
        return self.triage

    def is_open_at(self, now: datetime) -> bool:
        """Open and counted as open: neither snoozed (until a date still ahead) nor dismissed."""
        return self.state is FlagState.OPEN and self.triage_at(now) not in (
            FlagTriage.SNOOZED,
            FlagTriage.DISMISSED,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagHistoryEntry:
    """One step of a flag's life: raised, its evidence changed, resolved, reopened, triaged,
    published or not; `by` names the operator when known, `detail` what the step said."""

    flag_id: int
    kind: FlagHistoryKind
    at: datetime
    by: str | None = None
    detail: dict[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEvent:
    """A client-visible event; `id` is the monotonic cursor the feed pages by."""

    id: int | None = None
    client_id: int
    project_id: int | None
    kind: FeedEventKind
    # Makes at-least-once producers idempotent: one event per (client, dedupe_key).
    dedupe_key: str
    summary: str
    payload: dict[str, JSON] = field(default_factory=dict)
    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MilestoneTally:
    """A milestone's member items and those of them done, by item id.

    Progress is counted for each client over the members it may see (`seen_by`), so a filtered
    scope never learns how much work it is not shown, and a client that sees no member hears
    nothing of the milestone. The wording and the dedupe key of each client's count are here, so
    the feed says progress one way whoever counts it.
    """

    milestone_id: int
    name: str
    member_ids: frozenset[int]
    done_ids: frozenset[int]

    def seen_by(self, visible: Set[int]) -> tuple[int, int] | None:
        """(done, total) over the members in `visible`; None when it holds none of them."""
        members = self.member_ids & visible
        if not members:
            return None
        return len(self.done_ids & members), len(members)

    def summary(self, done: int, total: int) -> str:
        return f"{self.name}: {done} of {total} done"

    def payload(self, done: int, total: int) -> dict[str, Any]:
        return {"milestone": self.name, "milestone_id": self.milestone_id, "done": done, "total": total}

    def dedupe_key(self, done: int, total: int, *, after: int) -> str:
        """One event per count and per event it follows (`after`: the id of the client's previous
        count of this milestone, 0 for none), so a count that comes back (a reopened item) is told
        again, and telling the same count twice in a row writes nothing."""
        return f"milestone_progress:{self.milestone_id}:{done}/{total}:{after}"


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event before it is fanned out to the clients that may see its subject."""

    kind: FeedEventKind
    dedupe_key: str
    summary: str
    payload: dict[str, Any]
    occurred_at: datetime
    project_id: int
    item_id: int | None = None  # None: a project- or milestone-level event
    # The milestone a milestone-level event (a risk on it) is about: clients who see none of its
    # members are not told. Progress names its milestone in `milestone` instead.
    milestone_id: int | None = None
    # A milestone's progress: each client is told the count over the members it sees, worded and
    # keyed by the tally; `dedupe_key`, `summary` and `payload` are the count over every member.
    milestone: MilestoneTally | None = None
