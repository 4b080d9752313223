"""Where client feed events come from: one evaluation's project state before and after -> event drafts.

Pure: no database, no I/O, no clock (`now` is passed in). `service.flags.evaluate` gathers the
state and publishes the drafts; the store fans them out to the clients that may see them.

What the feed says, in this order:
- per item (in the order given): `item_done` once it is done, `commitment_moved` for every move
  of its promised date, then `commitment_met` or `commitment_missed` once the promise ends;
  only what happened within `FEED_HISTORY` of `now`, so a first evaluation shows recent history;
- per milestone with stored member items: `milestone_progress`, as of `now`, carrying the ids of its
  members and of those done; the store tells each client "done of total" over the members it sees;
- per risk open before and resolved after, if it was published: `risk_resolved`. Raising a risk is
  the operator's publish, not an evaluation's.

Drafts are derived from the state, not from a diff of it: each carries a dedupe key naming what
happened (the item and when it was done, the move, the promise and its date, the progress count, the
flag), so deriving again from an unchanged project yields the same keys and publishing them writes
nothing new. Producers may repeat; the store keeps one event per client and key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.domain.commitments import Commitment
from service.domain.enums import CommitmentOutcome, CommitmentSubject, FeedEventKind, FlagSubject
from service.domain.signals import EventDraft, MilestoneTally
from service.domain.work import Milestone, WorkItem

# Past events shown when a project is first evaluated: recent history, not years of it.
FEED_HISTORY = timedelta(days=30)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemState:
    """One work item as evaluated: when it was done, if it is, and the date promised for it."""

    item: WorkItem
    done_at: datetime | None = None
    commitment: Commitment | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Risk:
    """An open flag as the feed sees it: the client hears of it only once it was published."""

    flag_id: int
    subject: FlagSubject
    subject_id: int
    message: str
    client_text: str | None = None
    published: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectState:
    """A project as an evaluation leaves it: its items, its milestones and the flags open on them."""

    project_id: int
    items: Sequence[ItemState] = ()
    milestones: Sequence[Milestone] = ()
    open_risks: Sequence[Risk] = ()


def derive_events(before: Sequence[Risk], after: ProjectState, *, now: datetime) -> list[EventDraft]:
    """The drafts one evaluation publishes: `before` is what was open on the project's subjects when
    it began, `after` the project when it ended."""
    return [
        *_item_events(after, now=now),
        *_milestone_progress(after, now=now),
        *_risk_resolutions(before, after, now=now),
    ]


def _item_events(state: ProjectState, *, now: datetime) -> list[EventDraft]:
    since = now - FEED_HISTORY
    today = now.date()
    drafts: list[EventDraft] = []
    for entry in state.items:
        item = entry.item
        if item.id is None:
            continue
        if entry.done_at is not None and entry.done_at >= since:
            drafts.append(
                EventDraft(
                    kind=FeedEventKind.ITEM_DONE,
                    dedupe_key=f"item_done:{item.id}:{entry.done_at.isoformat()}",
                    summary=f"{item.key} done: {item.title}",
                    payload={"item": item.key, "title": item.title},
                    occurred_at=entry.done_at,
                    project_id=state.project_id,
                    item_id=item.id,
                )
            )
        commitment = entry.commitment
        if commitment is None:
            continue
        for move in commitment.moves:
            if move.moved_at < since or move.days == 0:
                continue
            move_ref = move.change_external_id or move.moved_at.isoformat()
            drafts.append(
                EventDraft(
                    kind=FeedEventKind.COMMITMENT_MOVED,
                    dedupe_key=f"commitment_moved:item:{item.id}:{move_ref}",
                    summary=f"{item.key}: promised date moved from {move.from_date} to {move.to_date}",
                    payload={
                        "item": item.key,
                        "from": move.from_date.isoformat() if move.from_date else None,
                        "to": move.to_date.isoformat() if move.to_date else None,
                        "days": move.days,
                    },
                    occurred_at=move.moved_at,
                    project_id=state.project_id,
                    item_id=item.id,
                )
            )
        outcome = commitment.outcome(today)
        deadline = commitment.current_date or commitment.baseline_date
        if outcome is CommitmentOutcome.OPEN:
            continue
        met = outcome is CommitmentOutcome.MET
        kind = FeedEventKind.COMMITMENT_MET if met else FeedEventKind.COMMITMENT_MISSED
        verdict = "met" if met else "missed"
        occurred = commitment.delivered_at or datetime.combine(
            deadline, datetime.min.time(), tzinfo=now.tzinfo
        )
        if occurred < since:
            continue
        drafts.append(
            EventDraft(
                kind=kind,
                dedupe_key=f"{kind.value}:{CommitmentSubject.ITEM.value}:{item.id}:{deadline.isoformat()}",
                summary=f"{item.key}: promise of {deadline} {verdict}",
                payload={
                    "item": item.key,
                    "promised": deadline.isoformat(),
                    "slip_days": commitment.slip_days,
                },
                occurred_at=occurred,
                project_id=state.project_id,
                item_id=item.id,
            )
        )
    return drafts


def _milestone_progress(state: ProjectState, *, now: datetime) -> list[EventDraft]:
    """How far each milestone with stored member items has come, as a tally of their ids: the store
    counts it for each client over the members that client sees (`MilestoneTally`)."""
    drafts = []
    for milestone in state.milestones:
        if milestone.id is None:
            continue
        members = [
            f.item
            for f in state.items
            if f.item.id is not None and milestone.external_id in f.item.milestone_external_ids
        ]
        if not members:
            continue
        tally = MilestoneTally(
            milestone_id=milestone.id,
            name=milestone.name,
            member_ids=frozenset(item.id for item in members if item.id is not None),
            done_ids=frozenset(item.id for item in members if item.id is not None and item.is_done),
        )
        done, total = len(tally.done_ids), len(tally.member_ids)
        drafts.append(
            EventDraft(
                kind=FeedEventKind.MILESTONE_PROGRESS,
                dedupe_key=f"milestone_progress:{milestone.id}:{done}/{total}",
                summary=tally.summary(done, total),
                payload=tally.payload(done, total),
                occurred_at=now,
                project_id=state.project_id,
                milestone=tally,
            )
        )
    return drafts


def _risk_resolutions(before: Sequence[Risk], after: ProjectState, *, now: datetime) -> list[EventDraft]:
    """A published risk that resolves tells the client; raising one is the operator's publish."""
    still_open = {risk.flag_id for risk in after.open_risks}
    items = {f.item.id for f in after.items}

    def item_of(risk: Risk) -> int | None:
        return risk.subject_id if risk.subject is FlagSubject.ITEM and risk.subject_id in items else None

    return [
        EventDraft(
            kind=FeedEventKind.RISK_RESOLVED,
            dedupe_key=f"risk_resolved:{risk.flag_id}",
            summary=f"Resolved: {risk.client_text or risk.message}",
            payload={"flag_id": risk.flag_id, "text": risk.client_text},
            occurred_at=now,
            project_id=after.project_id,
            item_id=item_of(risk),
        )
        for risk in before
        if risk.flag_id not in still_open and risk.published
    ]
