"""Feed events derived from one evaluation's state, without a database: every kind, and when none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from service.domain.commitments import Commitment, CommitmentMove
from service.domain.enums import (
    CommitmentSubject,
    FeedEventKind,
    FlagSubject,
    ItemKind,
    MilestoneKind,
    StatusCategory,
)
from service.domain.signals import EventDraft, MilestoneTally
from service.domain.work import Milestone, WorkItem
from service.feed.derive import (
    FEED_HISTORY,
    ItemState,
    ProjectState,
    Risk,
    derive_events,
    derive_publication,
)
from service.rules import Reopening

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
PROJECT = 7


def work_item(
    item_id: int | None, *, key: str = "", done: bool = False, milestones: tuple[str, ...] = ()
) -> WorkItem:
    return WorkItem(
        id=item_id,
        source_id=1,
        project_external_id="P",
        external_id=f"ext-{item_id}",
        key=key or f"P-{item_id}",
        title=f"Title {item_id}",
        kind=ItemKind.TASK,
        status="Done" if done else "To Do",
        status_category=StatusCategory.DONE if done else StatusCategory.TODO,
        milestone_external_ids=milestones,
        created_at=NOW - timedelta(days=90),
        updated_at=NOW - timedelta(days=1),
    )


def milestone(milestone_id: int | None, external_id: str, name: str = "Release 1") -> Milestone:
    return Milestone(
        id=milestone_id,
        source_id=1,
        project_external_id="P",
        external_id=external_id,
        name=name,
        kind=MilestoneKind.VERSION,
    )


def promise(
    baseline: date,
    *moves: CommitmentMove,
    current: date | None = None,
    delivered_at: datetime | None = None,
) -> Commitment:
    return Commitment(
        subject=CommitmentSubject.ITEM,
        subject_id=1,
        baseline_date=baseline,
        current_date=current if current is not None else (moves[-1].to_date if moves else baseline),
        promised_at=NOW - timedelta(days=60),
        moves=moves,
        delivered_at=delivered_at,
    )


def move(
    from_date: date | None, to_date: date | None, *, at: datetime, change: str | None = None
) -> CommitmentMove:
    return CommitmentMove(
        moved_at=at, moved_by="pm", from_date=from_date, to_date=to_date, change_external_id=change
    )


def risk(
    flag_id: int,
    *,
    subject: FlagSubject = FlagSubject.ITEM,
    subject_id: int = 1,
    published: bool = True,
    client_text: str | None = "Checkout may be late",
) -> Risk:
    return Risk(
        flag_id=flag_id,
        subject=subject,
        subject_id=subject_id,
        message=f"internal message {flag_id}",
        client_text=client_text,
        published=published,
    )


def state(
    *items: ItemState, milestones: tuple[Milestone, ...] = (), open_risks: tuple[Risk, ...] = ()
) -> ProjectState:
    return ProjectState(project_id=PROJECT, items=items, milestones=milestones, open_risks=open_risks)


def derive(after: ProjectState, *, before: tuple[Risk, ...] = (), now: datetime = NOW) -> list[EventDraft]:
    return derive_events(before, after, now=now)


# Nothing to tell


def test_an_empty_project_tells_nothing() -> None:
    assert derive(state()) == []


def test_items_without_news_tell_nothing() -> None:
    open_promise = promise(date(2026, 12, 1))
    after = state(ItemState(item=work_item(1)), ItemState(item=work_item(2), commitment=open_promise))

    assert derive(after) == []


def test_an_unchanged_project_derives_the_same_drafts_again() -> None:
    """Publishing is idempotent by dedupe key: the same state yields the same keys, so no new events."""
    done_at = NOW - timedelta(days=2)
    slipped = promise(
        date(2026, 11, 10),
        move(date(2026, 11, 10), date(2026, 11, 17), at=NOW - timedelta(days=12)),
        delivered_at=done_at,
    )
    after = state(
        ItemState(item=work_item(1, done=True, milestones=("m1",)), done_at=done_at, commitment=slipped),
        milestones=(milestone(30, "m1"),),
        open_risks=(risk(5),),
    )

    first = derive(after, before=(risk(5),))
    later = derive(after, before=(risk(5),), now=NOW + timedelta(hours=1))

    assert [d.dedupe_key for d in first] == [d.dedupe_key for d in later]
    assert len(first) == 4  # done, moved, missed (a day late), progress; the risk stayed open


# Items done


def test_an_item_done_recently_is_told() -> None:
    done_at = NOW - timedelta(days=3)

    [draft] = derive(state(ItemState(item=work_item(1, key="SHOP-1", done=True), done_at=done_at)))

    assert draft == EventDraft(
        kind=FeedEventKind.ITEM_DONE,
        dedupe_key=f"item_done:1:{done_at.isoformat()}",
        summary="SHOP-1 done: Title 1",
        payload={"item": "SHOP-1", "title": "Title 1"},
        occurred_at=done_at,
        project_id=PROJECT,
        item_id=1,
    )


def test_a_first_evaluation_shows_recent_history_only() -> None:
    edge = NOW - FEED_HISTORY
    after = state(
        ItemState(item=work_item(1, done=True), done_at=edge),
        ItemState(item=work_item(2, done=True), done_at=edge - timedelta(seconds=1)),
    )

    assert [d.item_id for d in derive(after)] == [1]


def test_a_reopened_item_done_again_is_a_new_event() -> None:
    first = derive(state(ItemState(item=work_item(1, done=True), done_at=NOW - timedelta(days=5))))
    again = derive(state(ItemState(item=work_item(1, done=True), done_at=NOW - timedelta(days=1))))

    assert first[0].dedupe_key != again[0].dedupe_key


def test_an_item_not_stored_yet_tells_nothing_of_itself() -> None:
    unsaved = promise(date(2026, 11, 1), delivered_at=NOW - timedelta(days=1))
    after = state(ItemState(item=work_item(None, key="NEW-1", done=True), done_at=NOW, commitment=unsaved))

    assert derive(after) == []


# Promises moved


def test_a_moved_promise_is_told_with_its_days() -> None:
    moved_at = NOW - timedelta(days=1)
    later = move(date(2026, 12, 1), date(2026, 12, 8), at=moved_at, change="10042")

    [draft] = derive(
        state(ItemState(item=work_item(3, key="SHOP-3"), commitment=promise(date(2026, 12, 1), later)))
    )

    assert draft == EventDraft(
        kind=FeedEventKind.COMMITMENT_MOVED,
        dedupe_key="commitment_moved:item:3:10042",
        summary="SHOP-3: promised date moved from 2026-12-01 to 2026-12-08",
        payload={"item": "SHOP-3", "from": "2026-12-01", "to": "2026-12-08", "days": 7},
        occurred_at=moved_at,
        project_id=PROJECT,
        item_id=3,
    )


def test_a_move_without_a_change_id_is_keyed_by_when_it_happened() -> None:
    moved_at = NOW - timedelta(days=1)
    earlier = move(date(2026, 12, 8), date(2026, 12, 1), at=moved_at)

    [draft] = derive(state(ItemState(item=work_item(3), commitment=promise(date(2026, 12, 8), earlier))))

    assert draft.dedupe_key == f"commitment_moved:item:3:{moved_at.isoformat()}"
    assert draft.payload["days"] == -7  # pulled in: told too


def test_setting_or_clearing_a_date_and_old_moves_are_not_told() -> None:
    moves = (
        move(None, date(2026, 12, 1), at=NOW - timedelta(days=3)),  # set: 0 days
        move(date(2026, 11, 1), date(2026, 11, 20), at=NOW - FEED_HISTORY - timedelta(days=1)),
        move(date(2026, 12, 1), None, at=NOW - timedelta(days=1)),  # cleared: 0 days
    )
    after = state(
        ItemState(item=work_item(3), commitment=promise(date(2026, 12, 1), *moves, current=date(2026, 12, 1)))
    )

    assert derive(after) == []


# Promises met or missed


def test_a_promise_delivered_in_time_is_met() -> None:
    delivered = NOW - timedelta(days=4)
    slipped = promise(
        date(2026, 11, 10),
        move(date(2026, 11, 10), date(2026, 11, 17), at=NOW - FEED_HISTORY - timedelta(days=1)),
        delivered_at=delivered,
    )

    [draft] = derive(state(ItemState(item=work_item(4, key="SHOP-4"), commitment=slipped)))

    assert draft == EventDraft(
        kind=FeedEventKind.COMMITMENT_MET,
        dedupe_key="commitment_met:item:4:2026-11-17",
        summary="SHOP-4: promise of 2026-11-17 met",
        payload={"item": "SHOP-4", "promised": "2026-11-17", "slip_days": 7},
        occurred_at=delivered,
        project_id=PROJECT,
        item_id=4,
    )


def test_a_promise_delivered_late_is_missed_when_delivered() -> None:
    delivered = datetime(2026, 11, 18, 9, tzinfo=UTC)

    [draft] = derive(
        state(ItemState(item=work_item(4), commitment=promise(date(2026, 11, 15), delivered_at=delivered)))
    )

    assert draft.kind is FeedEventKind.COMMITMENT_MISSED
    assert draft.summary == "P-4: promise of 2026-11-15 missed"
    assert draft.occurred_at == delivered
    assert draft.payload == {"item": "P-4", "promised": "2026-11-15", "slip_days": 0}


def test_a_promise_past_its_date_undelivered_is_missed_at_its_date() -> None:
    local = timezone(timedelta(hours=2))
    now = NOW.astimezone(local)

    [draft] = derive(state(ItemState(item=work_item(4), commitment=promise(date(2026, 11, 19)))), now=now)

    assert draft.dedupe_key == "commitment_missed:item:4:2026-11-19"
    assert draft.occurred_at == datetime(2026, 11, 19, tzinfo=local)


def test_a_promise_due_today_is_still_open() -> None:
    assert derive(state(ItemState(item=work_item(4), commitment=promise(NOW.date())))) == []


def test_a_promise_that_ended_before_the_history_is_not_told() -> None:
    long_ago = promise(date(2026, 9, 1), delivered_at=datetime(2026, 8, 30, tzinfo=UTC))
    missed_long_ago = promise(date(2026, 9, 1))
    after = state(
        ItemState(item=work_item(4), commitment=long_ago),
        ItemState(item=work_item(5), commitment=missed_long_ago),
    )

    assert derive(after) == []


def test_promises_ending_or_moving_right_at_the_edge_of_the_history_are_told() -> None:
    edge = NOW - FEED_HISTORY
    kept = promise(edge.date(), delivered_at=edge)
    moved = promise(date(2026, 11, 24), move(date(2026, 11, 24), date(2026, 12, 1), at=edge))
    after = state(
        ItemState(item=work_item(1), commitment=kept), ItemState(item=work_item(2), commitment=moved)
    )

    assert [(d.kind, d.occurred_at) for d in derive(after)] == [
        (FeedEventKind.COMMITMENT_MET, edge),
        (FeedEventKind.COMMITMENT_MOVED, edge),
    ]


# Corrections: an item or a promise reopened


def keys(drafts: list[EventDraft]) -> list[str]:
    return [d.dedupe_key for d in drafts]


def test_a_reopened_item_is_corrected_in_the_items_words() -> None:
    done_at, reopened_at = NOW - timedelta(days=3), NOW - timedelta(days=1)
    reopened = ItemState(
        item=work_item(1, key="SHOP-1"), reopenings=(Reopening(done_at=done_at, reopened_at=reopened_at),)
    )

    [draft] = derive(state(reopened))

    assert draft == EventDraft(
        kind=FeedEventKind.ITEM_REOPENED,
        dedupe_key=f"item_reopened:1:{reopened_at.isoformat()}",
        summary="SHOP-1 reopened: Title 1 is no longer done",
        payload={"item": "SHOP-1", "title": "Title 1"},
        occurred_at=reopened_at,
        project_id=PROJECT,
        item_id=1,
    )


def test_done_then_reopened_then_done_again_reads_as_three_item_events() -> None:
    """Each evaluation publishes what it derives; the store keeps one event per key, so the union
    of the keys in publishing order is what the client reads."""
    done, reopened, done_again = (NOW - timedelta(days=d) for d in (5, 3, 1))
    first = state(ItemState(item=work_item(1, done=True), done_at=done))
    second = state(ItemState(item=work_item(1), reopenings=(Reopening(done_at=done, reopened_at=reopened),)))
    third = state(
        ItemState(
            item=work_item(1, done=True),
            done_at=done_again,
            reopenings=(Reopening(done_at=done, reopened_at=reopened),),
        )
    )

    published: list[str] = []
    for after in (first, second, third):
        published += [key for key in keys(derive(after)) if key not in published]

    assert published == [
        f"item_done:1:{done.isoformat()}",
        f"item_reopened:1:{reopened.isoformat()}",
        f"item_done:1:{done_again.isoformat()}",
    ]


def test_a_met_promise_reopened_and_met_again_reads_as_three_promise_events() -> None:
    done, reopened, done_again = (NOW - timedelta(days=d) for d in (5, 3, 1))
    deadline = date(2026, 11, 25)
    history = (Reopening(done_at=done, reopened_at=reopened),)
    evaluations = [
        ItemState(item=work_item(4, key="SHOP-4"), commitment=promise(deadline, delivered_at=done)),
        ItemState(item=work_item(4, key="SHOP-4"), commitment=promise(deadline), reopenings=history),
        ItemState(
            item=work_item(4, key="SHOP-4"),
            commitment=promise(deadline, delivered_at=done_again),
            reopenings=history,
        ),
    ]

    published: list[EventDraft] = []
    for entry in evaluations:
        published += [d for d in derive(state(entry)) if d.dedupe_key not in keys(published)]

    promise_events = [d for d in published if d.kind is not FeedEventKind.ITEM_REOPENED]
    assert [(d.kind, d.occurred_at) for d in promise_events] == [
        (FeedEventKind.COMMITMENT_MET, done),
        (FeedEventKind.COMMITMENT_REOPENED, reopened),
        (FeedEventKind.COMMITMENT_MET, done_again),
    ]
    assert keys(promise_events) == [
        "commitment_met:item:4:2026-11-25",
        f"commitment_reopened:item:4:{reopened.isoformat()}",
        f"commitment_met:item:4:2026-11-25:{done_again.isoformat()}",
    ]
    assert promise_events[1].summary == (
        "SHOP-4: the promise of 2026-11-25 is open again, as the delivered work was reopened"
    )
    assert promise_events[1].payload == {"item": "SHOP-4", "promised": "2026-11-25"}


def test_a_reopened_promise_past_its_date_is_corrected_then_missed() -> None:
    """Delivered in time, reopened after the date: the promise is open again, and now overdue."""
    deadline = date(2026, 11, 15)
    done, reopened = datetime(2026, 11, 14, tzinfo=UTC), datetime(2026, 11, 18, tzinfo=UTC)
    entry = ItemState(
        item=work_item(4),
        commitment=promise(deadline),
        reopenings=(Reopening(done_at=done, reopened_at=reopened),),
    )

    assert [(d.kind, d.dedupe_key) for d in derive(state(entry))] == [
        (FeedEventKind.ITEM_REOPENED, f"item_reopened:4:{reopened.isoformat()}"),
        (FeedEventKind.COMMITMENT_REOPENED, f"commitment_reopened:item:4:{reopened.isoformat()}"),
        (FeedEventKind.COMMITMENT_MISSED, "commitment_missed:item:4:2026-11-15"),
    ]


def test_a_promise_delivered_late_and_reopened_is_not_told_open_again() -> None:
    """Only a promise the feed told met is corrected; a missed one stays missed."""
    late = datetime(2026, 11, 16, tzinfo=UTC)
    entry = ItemState(
        item=work_item(4),
        commitment=promise(date(2026, 11, 15)),
        reopenings=(Reopening(done_at=late, reopened_at=late + timedelta(days=1)),),
    )

    assert [d.kind for d in derive(state(entry))] == [
        FeedEventKind.ITEM_REOPENED,
        FeedEventKind.COMMITMENT_MISSED,
    ]


def test_a_reopening_is_judged_against_the_date_in_force_when_it_was_done() -> None:
    """Done on the 20th against a date moved from the 15th to the 22nd on the 10th: it was met."""
    moved = move(date(2026, 11, 15), date(2026, 11, 22), at=datetime(2026, 11, 10, tzinfo=UTC), change="m")
    done, reopened = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 20, 12, tzinfo=UTC)
    entry = ItemState(
        item=work_item(4),
        commitment=promise(date(2026, 11, 15), moved),
        reopenings=(Reopening(done_at=done, reopened_at=reopened),),
    )

    corrections = [d for d in derive(state(entry)) if d.kind is FeedEventKind.COMMITMENT_REOPENED]

    assert [d.payload["promised"] for d in corrections] == ["2026-11-22"]


def test_a_reopening_without_a_recorded_done_time_counts_from_the_reopening() -> None:
    reopened = datetime(2026, 11, 19, tzinfo=UTC)
    in_time = ItemState(
        item=work_item(4),
        commitment=promise(date(2026, 11, 25)),
        reopenings=(Reopening(done_at=None, reopened_at=reopened),),
    )

    assert FeedEventKind.COMMITMENT_REOPENED in [d.kind for d in derive(state(in_time))]


def test_reopenings_before_the_history_are_not_told() -> None:
    old = NOW - FEED_HISTORY - timedelta(seconds=1)
    entry = ItemState(
        item=work_item(4),
        commitment=promise(date(2026, 12, 25)),
        reopenings=(Reopening(done_at=old - timedelta(days=1), reopened_at=old),),
    )

    assert derive(state(entry)) == []


# Milestone progress


def test_milestone_progress_tallies_its_stored_items() -> None:
    after = state(
        ItemState(item=work_item(1, done=True, milestones=("m1",))),
        ItemState(item=work_item(2, milestones=("m1", "m2"))),
        ItemState(item=work_item(4, done=True, milestones=("m1",))),
        ItemState(item=work_item(None, done=True, milestones=("m1",))),  # not stored yet: no client sees it
        ItemState(item=work_item(3)),
        milestones=(milestone(30, "m1", "Release 1"),),
    )

    [draft] = derive(after)

    assert draft == EventDraft(
        kind=FeedEventKind.MILESTONE_PROGRESS,
        dedupe_key="milestone_progress:30:2/3",
        summary="Release 1: 2 of 3 done",
        payload={"milestone": "Release 1", "milestone_id": 30, "done": 2, "total": 3},
        occurred_at=NOW,
        project_id=PROJECT,
        item_id=None,
        milestone=MilestoneTally(
            milestone_id=30, name="Release 1", member_ids=frozenset({1, 2, 4}), done_ids=frozenset({1, 4})
        ),
    )


def test_milestone_tally_counts_only_the_members_a_client_sees() -> None:
    tally = MilestoneTally(
        milestone_id=30, name="ACB 1.3", member_ids=frozenset({1, 2, 3, 4}), done_ids=frozenset({1, 2, 3})
    )

    assert tally.seen_by({1, 4, 99}) == (1, 2)
    assert tally.seen_by({5, 6}) is None
    assert tally.summary(1, 2) == "ACB 1.3: 1 of 2 done"
    assert tally.payload(1, 2) == {"milestone": "ACB 1.3", "milestone_id": 30, "done": 1, "total": 2}
    assert tally.dedupe_key(1, 2, after=17) == "milestone_progress:30:1/2:17"


def test_milestones_without_items_or_not_stored_tell_nothing() -> None:
    after = state(
        ItemState(item=work_item(1, milestones=("m2",))),
        ItemState(item=work_item(None, milestones=("m3",))),
        milestones=(milestone(30, "m1"), milestone(None, "m2"), milestone(31, "m3")),
    )

    assert derive(after) == []


def test_new_progress_is_a_new_event() -> None:
    def progress(done: bool) -> str:
        after = state(
            ItemState(item=work_item(1, done=done, milestones=("m1",))), milestones=(milestone(30, "m1"),)
        )
        return derive(after)[0].dedupe_key

    assert progress(False) == "milestone_progress:30:0/1"
    assert progress(True) == "milestone_progress:30:1/1"


# Risks


def test_a_published_risk_that_resolves_is_told() -> None:
    after = state(ItemState(item=work_item(1)))

    [draft] = derive(after, before=(risk(5, subject_id=1),))

    assert draft == EventDraft(
        kind=FeedEventKind.RISK_RESOLVED,
        dedupe_key="risk_resolved:5",
        summary="Resolved: Checkout may be late",
        payload={"flag_id": 5, "text": "Checkout may be late"},
        occurred_at=NOW,
        project_id=PROJECT,
        item_id=1,
    )


def test_a_resolved_risk_without_client_wording_is_not_told_in_the_rules_words() -> None:
    assert derive(state(), before=(risk(5, client_text=None),)) == []


def test_a_resolved_risk_names_an_item_or_milestone_of_the_project_only() -> None:
    before = (
        risk(5, subject=FlagSubject.ITEM, subject_id=99),  # not among the evaluated items
        risk(6, subject=FlagSubject.MILESTONE, subject_id=1),  # same id as an item, not an item
        risk(7, subject=FlagSubject.PROJECT, subject_id=PROJECT),
        risk(8, subject=FlagSubject.MILESTONE, subject_id=42),  # not among the evaluated milestones
    )

    drafts = derive(state(ItemState(item=work_item(1)), milestones=(milestone(1, "10"),)), before=before)

    assert [(d.dedupe_key, d.item_id, d.milestone_id) for d in drafts] == [
        ("risk_resolved:5", None, None),
        ("risk_resolved:6", None, 1),
        ("risk_resolved:7", None, None),
        ("risk_resolved:8", None, None),
    ]


def test_risks_raised_kept_open_or_never_published_are_not_told() -> None:
    before = (risk(5), risk(6, published=False))
    after = state(open_risks=(risk(5), risk(8)))  # 5 stays open, 8 is new, 6 resolved unpublished

    assert derive(after, before=before) == []


# An operator's publish or withdrawal


def publication(before: Risk, after: Risk, *, still_open: bool = True) -> list[EventDraft]:
    return derive_publication(before, after, still_open=still_open, project_id=PROJECT, now=NOW)


def test_publishing_a_milestones_risk_names_the_milestone_so_only_its_clients_hear() -> None:
    hidden = risk(5, subject=FlagSubject.MILESTONE, subject_id=3, published=False, client_text=None)

    [draft] = publication(hidden, risk(5, subject=FlagSubject.MILESTONE, subject_id=3))

    assert (draft.item_id, draft.milestone_id) == (None, 3)


def test_publishing_a_risk_raises_it_in_the_operators_words_only() -> None:
    hidden = risk(5, published=False, client_text=None)

    [draft] = publication(hidden, risk(5, client_text="Checkout may be late"))

    assert draft == EventDraft(
        kind=FeedEventKind.RISK_RAISED,
        dedupe_key=f"risk_raised:5:{NOW.isoformat()}",
        summary="Risk: Checkout may be late",
        payload={"flag_id": 5, "text": "Checkout may be late"},
        occurred_at=NOW,
        project_id=PROJECT,
        item_id=1,
    )
    assert "internal message" not in repr(draft)


def test_keeping_a_published_risk_internal_withdraws_it_in_the_wording_it_was_shown_with() -> None:
    [draft] = publication(risk(5, client_text="Checkout may be late"), risk(5, published=False))

    assert (draft.kind, draft.summary, draft.payload) == (
        FeedEventKind.RISK_WITHDRAWN,
        "Withdrawn: Checkout may be late",
        {"flag_id": 5, "text": "Checkout may be late"},
    )
    assert draft.dedupe_key == f"risk_withdrawn:5:{NOW.isoformat()}"


def test_new_wording_for_a_published_risk_raises_it_again() -> None:
    [draft] = publication(risk(5, client_text="Late"), risk(5, client_text="A week late"))

    assert (draft.kind, draft.summary) == (FeedEventKind.RISK_RAISED, "Risk: A week late")


@pytest.mark.parametrize(
    ("before", "after", "still_open"),
    [
        (risk(5, client_text="Late"), risk(5, client_text="Late"), True),
        (risk(5, published=False), risk(5, published=False), True),
        (risk(5, published=False), risk(5, client_text="Late"), False),
        (risk(5, client_text="Late"), risk(5, published=False), False),
    ],
    ids=["same-wording", "still-internal", "publish-resolved", "withdraw-resolved"],
)
def test_a_publication_that_changes_nothing_a_client_sees_tells_nothing(
    before: Risk, after: Risk, still_open: bool
) -> None:
    assert publication(before, after, still_open=still_open) == []


# Order


def test_items_come_first_in_their_order_then_milestones_then_risks() -> None:
    delivered = NOW - timedelta(days=1)
    moved = move(date(2026, 11, 10), date(2026, 11, 19), at=NOW - timedelta(days=9), change="c1")
    after = state(
        ItemState(item=work_item(2, done=True, milestones=("m1",)), done_at=delivered),
        ItemState(
            item=work_item(1, done=True, milestones=("m1",)),
            done_at=delivered,
            commitment=promise(date(2026, 11, 10), moved, delivered_at=delivered),
        ),
        milestones=(milestone(31, "m1", "Beta"), milestone(30, "m2", "Alpha")),
    )

    drafts = derive(after, before=(risk(9, subject_id=2),))

    assert [(d.kind, d.item_id) for d in drafts] == [
        (FeedEventKind.ITEM_DONE, 2),
        (FeedEventKind.ITEM_DONE, 1),
        (FeedEventKind.COMMITMENT_MOVED, 1),
        (FeedEventKind.COMMITMENT_MET, 1),
        (FeedEventKind.MILESTONE_PROGRESS, None),
        (FeedEventKind.RISK_RESOLVED, 2),
    ]
