"""Where client feed events come from: one evaluation's project state before and after -> event drafts,
and an operator's publish or withdrawal of a risk -> event drafts.

Pure: no database, no I/O, no clock (`now` is passed in). `service.flags.evaluate` gathers the
state and publishes the drafts; the store fans them out to the clients that may see them.

What the feed says, in this order:
- per item (in the order given): `item_reopened` for every time it was taken out of done, with
  `commitment_reopened` when its promise had been met by the delivery reopened (the corrections of
  what the feed said before); `item_done` once it is done, `commitment_moved` for every move of its
  promised date, then `commitment_met` or `commitment_missed` once the promise ends; only what
  happened within `FEED_HISTORY` of `now`, so a first evaluation shows recent history;
- per milestone, `commitment_moved` for every observed move of its date (told to the clients who
  see one of its members);
- per milestone with stored member items: `milestone_progress`, as of `now`, carrying the ids of its
  members and of those done; the store tells each client "done of total" over the members it sees;
- per risk open before and resolved after, if it was published: `risk_resolved`. Raising a risk is
  the operator's publish (`derive_publication`: `risk_raised`, and `risk_withdrawn` when it is kept
  internal again), not an evaluation's.
Risks speak only in the operator's wording (`client_text`), never the rule's message.

Drafts are derived from the state, not from a diff of it: each carries a dedupe key naming what
happened (the item and when it was done or reopened, the move, the promise and its date, the
progress count, the flag), so deriving again from an unchanged project yields the same keys and
publishing them writes nothing new. Producers may repeat; the store keeps one event per client and
key. A promise delivered again after a reopening is keyed by that delivery too, so done -> reopened
-> done reads as three events; an operator's publish or withdrawal is keyed by when it was made.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from service.domain.commitments import Commitment
from service.domain.enums import CommitmentOutcome, CommitmentSubject, FeedEventKind, FlagSubject
from service.domain.signals import EventDraft, Flag, MilestoneTally
from service.domain.work import Milestone, WorkItem
from service.feed.wording import (
    commitment_reopened_summary,
    item_reopened_summary,
    risk_raised_summary,
    risk_resolved_summary,
    risk_withdrawn_summary,
)
from service.rules.facts import Reopening

# Past events shown when a project is first evaluated: recent history, not years of it.
FEED_HISTORY = timedelta(days=30)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemState:
    """One work item as evaluated: when it was done, if it is, the date promised for it, and every
    time it was taken out of done (oldest first)."""

    item: WorkItem
    done_at: datetime | None = None
    commitment: Commitment | None = None
    reopenings: Sequence[Reopening] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Risk:
    """An open flag as the feed sees it: the client hears of it only once it was published."""

    flag_id: int
    subject: FlagSubject
    subject_id: int
    message: str
    client_text: str | None = None
    published: bool = False


def risk_of(flag: Flag) -> Risk:
    """A stored flag as the feed sees it."""
    assert flag.id is not None
    return Risk(
        flag_id=flag.id,
        subject=flag.subject,
        subject_id=flag.subject_id,
        message=flag.message,
        client_text=flag.client_text,
        published=flag.published,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectState:
    """A project as an evaluation leaves it: its items, its milestones and the flags open on them."""

    project_id: int
    items: Sequence[ItemState] = ()
    milestones: Sequence[Milestone] = ()
    open_risks: Sequence[Risk] = ()
    # The promises of its milestones (subject milestone, keyed by `subject_id`), moves observed.
    milestone_commitments: Sequence[Commitment] = ()


def derive_events(before: Sequence[Risk], after: ProjectState, *, now: datetime) -> list[EventDraft]:
    """The drafts one evaluation publishes: `before` is what was open on the project's subjects when
    it began, `after` the project when it ended."""
    return [
        *_item_events(after, now=now),
        *_milestone_moves(after, now=now),
        *_milestone_progress(after, now=now),
        *_risk_resolutions(before, after, now=now),
    ]


def _milestone_moves(state: ProjectState, *, now: datetime) -> list[EventDraft]:
    """`commitment_moved` for every observed move of a milestone's date within the feed's history,
    told to the clients who see a member of the milestone."""
    since = now - FEED_HISTORY
    names = {m.id: m.name for m in state.milestones if m.id is not None}
    drafts: list[EventDraft] = []
    for commitment in state.milestone_commitments:
        name = names.get(commitment.subject_id)
        if commitment.subject is not CommitmentSubject.MILESTONE or name is None:
            continue
        drafts += _moves(
            commitment,
            since=since,
            subject=("milestone", name),
            project_id=state.project_id,
            milestone_id=commitment.subject_id,
        )
    return drafts


def _item_events(state: ProjectState, *, now: datetime) -> list[EventDraft]:
    since = now - FEED_HISTORY
    drafts: list[EventDraft] = []
    for entry in state.items:
        item = entry.item
        if item.id is None:
            continue
        drafts += _corrections(entry, item_id=item.id, project_id=state.project_id, since=since)
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
        drafts += _moves(
            commitment, since=since, subject=("item", item.key), project_id=state.project_id, item_id=item.id
        )
        outcome = _outcome(entry, commitment, project_id=state.project_id, now=now)
        if outcome is not None and outcome.occurred_at >= since:
            drafts.append(outcome)
    return drafts


def _moves(
    commitment: Commitment,
    *,
    since: datetime,
    subject: tuple[str, str],
    project_id: int,
    item_id: int | None = None,
    milestone_id: int | None = None,
) -> list[EventDraft]:
    """`commitment_moved` for each move of a promise within the feed's history. `subject` is the
    payload's key and the name the client reads (`("item", key)` or `("milestone", name)`)."""
    kind, name = subject
    subject_id = item_id if item_id is not None else milestone_id
    drafts: list[EventDraft] = []
    for move in commitment.moves:
        if move.moved_at < since or move.days == 0:
            continue
        move_ref = move.change_external_id or move.moved_at.isoformat()
        drafts.append(
            EventDraft(
                kind=FeedEventKind.COMMITMENT_MOVED,
                dedupe_key=f"commitment_moved:{kind}:{subject_id}:{move_ref}",
                summary=f"{name}: promised date moved from {move.from_date} to {move.to_date}",
                payload={
                    kind: name,
                    "from": move.from_date.isoformat() if move.from_date else None,
                    "to": move.to_date.isoformat() if move.to_date else None,
                    "days": move.days,
                },
                occurred_at=move.moved_at,
                project_id=project_id,
                item_id=item_id,
                milestone_id=milestone_id,
            )
        )
    return drafts


def _outcome(
    entry: ItemState, commitment: Commitment, *, project_id: int, now: datetime
) -> EventDraft | None:
    """`commitment_met` or `commitment_missed` once the promise has ended, else None."""
    item = entry.item
    assert item.id is not None
    outcome = commitment.outcome(now.date())
    deadline = commitment.current_date or commitment.baseline_date
    if outcome is CommitmentOutcome.OPEN:
        return None
    met = outcome is CommitmentOutcome.MET
    kind = FeedEventKind.COMMITMENT_MET if met else FeedEventKind.COMMITMENT_MISSED
    verdict = "met" if met else "missed"
    delivered = commitment.delivered_at
    occurred = delivered or datetime.combine(deadline, datetime.min.time(), tzinfo=now.tzinfo)
    key = f"{kind.value}:{CommitmentSubject.ITEM.value}:{item.id}:{deadline.isoformat()}"
    if delivered is not None and any(r.reopened_at <= delivered for r in entry.reopenings):
        # Delivered again after a reopening: a new outcome, told even when it repeats the first.
        key += f":{delivered.isoformat()}"
    return EventDraft(
        kind=kind,
        dedupe_key=key,
        summary=f"{item.key}: promise of {deadline} {verdict}",
        payload={"item": item.key, "promised": deadline.isoformat(), "slip_days": commitment.slip_days},
        occurred_at=occurred,
        project_id=project_id,
        item_id=item.id,
    )


def _corrections(entry: ItemState, *, item_id: int, project_id: int, since: datetime) -> list[EventDraft]:
    """Each recent reopening of the item, and of the promise its reopened delivery had met."""
    item = entry.item
    drafts = []
    for reopening in entry.reopenings:
        at = reopening.reopened_at
        if at < since:
            continue
        drafts.append(
            EventDraft(
                kind=FeedEventKind.ITEM_REOPENED,
                dedupe_key=f"item_reopened:{item_id}:{at.isoformat()}",
                summary=item_reopened_summary(item.key, item.title),
                payload={"item": item.key, "title": item.title},
                occurred_at=at,
                project_id=project_id,
                item_id=item_id,
            )
        )
        commitment = entry.commitment
        # Done at the latest when reopened: a reopening with no recorded done time counts from then.
        delivered = reopening.done_at or at
        if commitment is None or delivered.date() > _deadline_at(commitment, delivered):
            continue
        promised = _deadline_at(commitment, at)
        drafts.append(
            EventDraft(
                kind=FeedEventKind.COMMITMENT_REOPENED,
                dedupe_key=f"commitment_reopened:{CommitmentSubject.ITEM.value}:{item_id}:{at.isoformat()}",
                summary=commitment_reopened_summary(item.key, promised),
                payload={"item": item.key, "promised": promised.isoformat()},
                occurred_at=at,
                project_id=project_id,
                item_id=item_id,
            )
        )
    return drafts


def _deadline_at(commitment: Commitment, at: datetime) -> date:
    """The promised date in force at `at`: the baseline, then each move made by then (a cleared
    date falls back to the baseline, as `Commitment.outcome` does)."""
    deadline = commitment.baseline_date
    for move in commitment.moves:
        if move.moved_at <= at:
            deadline = move.to_date or commitment.baseline_date
    return deadline


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
    milestones = {m.id for m in after.milestones}
    return [
        EventDraft(
            kind=FeedEventKind.RISK_RESOLVED,
            dedupe_key=f"risk_resolved:{risk.flag_id}",
            summary=risk_resolved_summary(risk.client_text),
            payload={"flag_id": risk.flag_id, "text": risk.client_text},
            occurred_at=now,
            project_id=after.project_id,
            item_id=_subject(risk, FlagSubject.ITEM, items),
            milestone_id=_subject(risk, FlagSubject.MILESTONE, milestones),
        )
        for risk in before
        if risk.flag_id not in still_open and risk.published and risk.client_text
    ]


def _subject(risk: Risk, kind: FlagSubject, known: Collection[int | None] | None = None) -> int | None:
    """The risk's subject id when it is a `kind` (and, given `known`, one of those)."""
    if risk.subject is not kind or (known is not None and risk.subject_id not in known):
        return None
    return risk.subject_id


def derive_publication(
    before: Risk, after: Risk, *, still_open: bool, project_id: int, now: datetime
) -> list[EventDraft]:
    """What an operator's publish or withdrawal of a risk tells the clients who see its subject.

    `risk_raised` when an open risk becomes visible or its published wording changes, in that
    wording; `risk_withdrawn` when a published open risk is kept internal again, in the wording it
    was shown with; nothing for a flag no longer open (its resolution was told, or it never was) or
    a call that changes nothing. It names its subject item or milestone, so only clients who see the
    item, or a member of the milestone, hear of it. Each is keyed by when it was made: republishing
    later is a new event.
    """
    if not still_open:
        return []
    shown_before = before.client_text if before.published else None
    shown_after = after.client_text if after.published else None
    if shown_after == shown_before:
        return []
    if shown_after is not None:
        kind, summary, text = FeedEventKind.RISK_RAISED, risk_raised_summary(shown_after), shown_after
    else:
        assert shown_before is not None
        kind, summary, text = FeedEventKind.RISK_WITHDRAWN, risk_withdrawn_summary(shown_before), shown_before
    return [
        EventDraft(
            kind=kind,
            dedupe_key=f"{kind.value}:{after.flag_id}:{now.isoformat()}",
            summary=summary,
            payload={"flag_id": after.flag_id, "text": text},
            occurred_at=now,
            project_id=project_id,
            item_id=_subject(after, FlagSubject.ITEM),
            milestone_id=_subject(after, FlagSubject.MILESTONE),
        )
    ]
