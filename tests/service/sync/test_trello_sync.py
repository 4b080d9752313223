"""Trello sync end to end against the sandbox over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from connectors.http import RetryPolicy
from sandbox.trello.models import Action, CustomField, CustomFieldItem
from service.domain.enums import StatusCategory
from service.errors import ProviderUnavailableError
from service.store.db import transaction
from service.store.orm import ChangeRow, MilestoneRow, SyncRunRow, WorkItemRow
from service.store.runtime import Store
from service.store.sources import update_source_settings
from service.sync.runs import sync_source_now
from tests.support.fakes import FakeClock
from tests.support.trello_sandbox import (
    TrelloSandbox,
    local_snapshot,
    serve_trello_sandbox,
    trello_limiter_on,
    visibility_of,
)

ACTIONS = "GET /1/boards/{board_id}/actions"
CARDS = "GET /1/boards/{board_id}/cards"
BATCH = "GET /1/batch"
FAST_RETRY = RetryPolicy.without_waiting(max_attempts=8)


@pytest.fixture
def trello_sandbox() -> Iterator[TrelloSandbox]:
    with serve_trello_sandbox("tiny", seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def source_id(store: Store, trello_sandbox: TrelloSandbox) -> int:
    return trello_sandbox.add_source(store)


def count(store: Store, model: type, *where: object) -> int:
    with store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def change_fields(store: Store, card_id: str) -> list[tuple[str, str | None]]:
    with store.sessions() as session:
        rows = session.execute(
            select(ChangeRow.field, ChangeRow.to_value)
            .join(WorkItemRow, WorkItemRow.id == ChangeRow.item_id)
            .where(WorkItemRow.external_id == card_id)
            .order_by(ChangeRow.changed_at, ChangeRow.id)
        )
        return [(field, to_value) for field, to_value in rows]


def test_full_sync_matches_the_sandbox_world(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    summary = sync_source_now(store, source_id=source_id, full=True)

    assert summary.status == "succeeded"
    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()
    assert count(store, ChangeRow) == trello_sandbox.expected_change_count()
    assert summary.items_seen == summary.items_changed == len(trello_sandbox.snapshot())


def test_full_sync_reads_boards_in_batches_and_never_card_by_card(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    summary = sync_source_now(store, source_id=source_id, full=True)

    boards = len(trello_sandbox.world.boards)
    assert summary.api_calls["by_endpoint"] == {
        "GET /1/members/{member}/boards": {"200": 1},
        "GET /1/batch": {"200": 1},
        "GET /1/boards/{board}/actions": {"200": boards},
        "GET /1/boards/{board}/cards": {"200": boards},
    }


def test_full_sync_milestone_labelled_cards_become_milestones(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)

    world = trello_sandbox.world
    labelled = {
        card.id
        for card in world.cards.values()
        if any(world.labels[label].name == "Milestone" for label in card.id_labels)
    }
    with store.sessions() as session:
        stored = set(session.scalars(select(MilestoneRow.external_id).where(MilestoneRow.kind == "card")))
    assert stored == {f"card:{card_id}" for card_id in labelled}


def test_incremental_with_nothing_changed_is_one_actions_call_per_board(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)

    summary = sync_source_now(store, source_id=source_id, full=False)

    assert summary.api_calls["by_endpoint"] == {
        "GET /1/boards/{board}/actions": {"200": len(trello_sandbox.world.boards)}
    }
    assert summary.items_changed == 0


def test_incremental_after_mutations_applies_them_with_their_history(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    card_id = trello_sandbox.card_ids(where=lambda card: not card.closed)[0]
    board_id = trello_sandbox.world.cards[card_id].id_board
    done = trello_sandbox.first_open_list(board_id, name="Done")
    trello_sandbox.control("POST", "/clock/advance", {"seconds": 60})
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/due", {"due": "2027-03-01T17:00:00.000Z"})
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/move", {"idList": done})

    summary = sync_source_now(store, source_id=source_id, full=False)

    assert summary.items_changed == 1
    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()
    assert change_fields(store, card_id)[-2:] == [("promised_date", "2027-03-01"), ("status", done)]
    # The actions of every board, then the changed board (its lists) and its cards in one batch.
    assert summary.api_calls["by_endpoint"] == {
        "GET /1/boards/{board}/actions": {"200": len(trello_sandbox.world.boards)},
        "GET /1/boards/{board}": {"200": 1},
        "GET /1/batch": {"200": 1},
    }


def test_incremental_past_a_thousand_actions_pages_back_with_before(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    world = trello_sandbox.world
    board_id = next(iter(world.boards))
    cards = [card.id for card in world.cards.values() if card.id_board == board_id]
    with world.lock:
        start = world.clock.now()
        for n in range(1100):
            world.set_date(cards[n % len(cards)], "due", start + timedelta(days=n % 40 + 1, minutes=n))

    summary = sync_source_now(store, source_id=source_id, full=False)

    assert summary.api_calls["by_endpoint"]["GET /1/boards/{board}/actions"]["200"] == len(world.boards) + 1
    assert summary.changes_added == 1100
    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()


def test_archived_cards_and_lists_stay_visible_with_their_archived_state(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    card_id = trello_sandbox.card_ids(where=lambda card: not card.closed)[0]
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/archive", {"closed": True})
    world = trello_sandbox.world
    with world.lock:
        card = world.cards[card_id]
        world.lists[card.id_list].closed = True

    sync_source_now(store, source_id=source_id, full=True)

    with store.sessions() as session:
        row = session.scalars(select(WorkItemRow).where(WorkItemRow.external_id == card_id)).one()
    assert (row.visibility, row.raw["pmbridge"]["archived"], row.raw["pmbridge"]["list_archived"]) == (
        "visible",
        True,
        True,
    )
    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()


def test_archived_is_done_setting_counts_archived_cards_as_done(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    card_id = trello_sandbox.card_ids(where=lambda card: not card.closed)[0]
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/archive", {"closed": True})
    with transaction(store.sessions) as session:
        update_source_settings(session, source_id=source_id, settings={"archived_is_done": True})

    sync_source_now(store, source_id=source_id, full=True)

    with store.sessions() as session:
        category = session.scalars(
            select(WorkItemRow.status_category).where(WorkItemRow.external_id == card_id)
        ).one()
    assert category == StatusCategory.DONE.value


def test_incremental_after_a_delete_marks_the_card_deleted_from_its_action(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    card_id = trello_sandbox.card_ids()[0]
    trello_sandbox.control("DELETE", f"/trello/cards/{card_id}")

    summary = sync_source_now(store, source_id=source_id, full=False)

    assert summary.items_deleted == 1
    assert visibility_of(store, source_id, card_id) == "deleted"
    assert BATCH not in summary.api_calls["by_endpoint"]
    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()


def test_full_sync_census_finds_a_card_gone_without_an_action(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    world = trello_sandbox.world
    card_id = trello_sandbox.card_ids()[0]
    with world.lock:
        world.forget_card(world.cards[card_id])

    summary = sync_source_now(store, source_id=source_id, full=True)

    assert summary.items_deleted == 1
    assert visibility_of(store, source_id, card_id) == "deleted"
    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()


def test_census_run_marks_silent_deletes_with_listings_only(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    world = trello_sandbox.world
    card_id = trello_sandbox.card_ids()[0]
    with world.lock:
        world.forget_card(world.cards[card_id])

    summary = sync_source_now(store, source_id=source_id, full=False, census=True)

    assert (summary.kind, summary.items_deleted) == ("census", 1)
    assert "GET /1/boards/{board}/actions" not in summary.api_calls["by_endpoint"]
    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()


def test_card_moved_to_a_board_not_synced_is_hidden(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    synced, other = list(trello_sandbox.world.boards)
    with transaction(store.sessions) as session:
        update_source_settings(session, source_id=source_id, settings={"board_ids": [synced]})
    sync_source_now(store, source_id=source_id, full=True)
    card_id = trello_sandbox.card_ids(where=lambda card: card.id_board == synced)[0]
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/move-to-board", {"idBoard": other})

    summary = sync_source_now(store, source_id=source_id, full=False)

    assert summary.items_hidden == 1
    assert visibility_of(store, source_id, card_id) == "hidden"


def _open_work_list_with_cards(trello_sandbox: TrelloSandbox) -> tuple[str, str, str]:
    """(board id, list id, list name) of a list of work not done (Review first) that holds cards."""
    for name in ("Review", "Doing", "To Do", "Backlog"):
        for board_id in list(trello_sandbox.world.boards):
            list_id = trello_sandbox.first_open_list(board_id, name=name)
            if trello_sandbox.card_ids(where=lambda card, list_id=list_id: card.id_list == list_id):
                return board_id, list_id, name
    raise AssertionError("no open list of work holds cards")


def test_list_category_override_applies_on_the_next_full_sync(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    board_id, review, name = _open_work_list_with_cards(trello_sandbox)
    in_review = trello_sandbox.card_ids(where=lambda card: card.id_list == review)
    with transaction(store.sessions) as session:
        update_source_settings(
            session, source_id=source_id, settings={"list_categories": {board_id: {review: "done"}}}
        )

    summary = sync_source_now(store, source_id=source_id, full=True)

    assert in_review
    assert summary.items_changed == len(in_review)
    assert count(
        store, WorkItemRow, WorkItemRow.status == name, WorkItemRow.status_category == "done"
    ) == len(in_review)


def test_full_sync_maps_the_custom_fields_the_source_names_into_spent_and_estimate(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    world = trello_sandbox.world
    with world.lock:
        card = world.cards[next(iter(trello_sandbox.snapshot()))]
        board = world.boards[card.id_board]
        spent = CustomField(world.new_id(), board.id, "Time spent (h)", "number", 99_999.0)
        world.add_custom_field(board, spent)
        card.custom_field_items = [
            item
            for item in card.custom_field_items
            if world.custom_fields[item.id_custom_field].name != "Estimate (h)"
        ]
        card.custom_field_items.append(CustomFieldItem(world.new_id(), spent.id, value={"number": "6.5"}))
    with transaction(store.sessions) as session:
        update_source_settings(
            session,
            source_id=source_id,
            settings={"spent_field": "time spent (h)", "estimate_field": "Estimate (h)"},
        )

    sync_source_now(store, source_id=source_id, full=True)

    with store.sessions() as session:
        rows = session.execute(
            select(WorkItemRow.external_id, WorkItemRow.spent_seconds).where(
                WorkItemRow.spent_seconds.is_not(None)
            )
        )
        efforts = {external_id: seconds for external_id, seconds in rows}
        estimate = session.scalar(
            select(WorkItemRow.estimate_seconds).where(WorkItemRow.external_id == card.id)
        )
    assert efforts == {card.id: int(6.5 * 3600)}
    # The named estimate field is the only source of estimates: this card's value was removed.
    assert estimate is None
    assert count(store, WorkItemRow, WorkItemRow.estimate_seconds.is_not(None)) > 0


def test_incremental_after_a_list_rename_relists_the_board(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    world = trello_sandbox.world
    board_id, review, name = _open_work_list_with_cards(trello_sandbox)
    with world.lock:
        world.lists[review].name = f"Client {name}"
        board = world.boards[board_id]
        world.insert_history(
            [
                Action(
                    "",
                    "updateList",
                    world.clock.now(),
                    board.id_member_creator or world.me.id,
                    {"list": {"id": review, "name": f"Client {name}"}, "old": {"name": name}},
                    {},
                    board_id,
                )
            ]
        )

    summary = sync_source_now(store, source_id=source_id, full=False)

    in_review = trello_sandbox.card_ids(where=lambda card: card.id_list == review)
    assert in_review
    assert summary.items_changed == len(in_review)
    assert "GET /1/boards/{board}/cards" in summary.api_calls["by_endpoint"]
    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()


@pytest.mark.parametrize(
    "fault",
    [
        {"route": ACTIONS, "kind": "error", "status": 503, "probability": 0.4},
        {"route": CARDS, "kind": "rate_limit", "retry_after_s": 0, "times": 3},
        {"route": BATCH, "kind": "error", "status": 500, "times": 2},
        {"route": CARDS, "kind": "timeout", "times": 1},
    ],
    ids=["actions-503", "cards-429", "batch-500", "cards-timeout"],
)
def test_full_sync_under_faults_ends_in_the_same_state(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int, fault: dict[str, object]
) -> None:
    trello_sandbox.control("POST", "/faults", fault)

    sync_source_now(
        store,
        source_id=source_id,
        full=True,
        retry=FAST_RETRY,
        timeout=httpx.Timeout(1.0),
        trello_limiter=trello_limiter_on(FakeClock()),
    )

    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()
    assert count(store, ChangeRow) == trello_sandbox.expected_change_count()


def test_sync_that_keeps_failing_is_recorded_and_resumes_from_its_cursors(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    trello_sandbox.control("POST", "/faults", {"route": CARDS, "kind": "error", "status": 502})

    with pytest.raises(ProviderUnavailableError):
        sync_source_now(
            store, source_id=source_id, full=True, retry=RetryPolicy.without_waiting(max_attempts=2)
        )
    trello_sandbox.control("DELETE", "/faults")
    sync_source_now(store, source_id=source_id, full=False)

    with store.sessions() as session:
        statuses = list(session.scalars(select(SyncRunRow.status).order_by(SyncRunRow.id)))
    assert statuses == ["failed", "succeeded"]
    assert local_snapshot(store, source_id) == trello_sandbox.snapshot()
    assert count(store, ChangeRow) == trello_sandbox.expected_change_count()


def done_time(store: Store, card_id: str) -> object:
    with store.sessions() as session:
        return session.scalar(select(WorkItemRow.resolved_at).where(WorkItemRow.external_id == card_id))


def test_a_card_moved_to_a_done_list_is_done_from_the_move_until_it_leaves(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    card_id = trello_sandbox.card_ids(
        where=lambda card: (
            not card.closed and "done" not in trello_sandbox.world.lists[card.id_list].name.lower()
        )
    )[0]
    board_id = trello_sandbox.world.cards[card_id].id_board
    done = trello_sandbox.first_open_list(board_id, name="Done")
    doing = trello_sandbox.first_open_list(board_id, name="Doing")
    assert done_time(store, card_id) is None
    trello_sandbox.control("POST", "/clock/advance", {"seconds": 3600})
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/move", {"idList": done})

    sync_source_now(store, source_id=source_id, full=False)

    with store.sessions() as session:
        moved_at = session.scalar(
            select(func.max(ChangeRow.changed_at))
            .join(WorkItemRow, WorkItemRow.id == ChangeRow.item_id)
            .where(WorkItemRow.external_id == card_id, ChangeRow.field == "status")
        )
    assert moved_at is not None
    assert done_time(store, card_id) == moved_at
    sync_source_now(store, source_id=source_id, full=True)  # a full pass keeps it
    assert done_time(store, card_id) == moved_at

    trello_sandbox.control("POST", "/clock/advance", {"seconds": 3600})
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/move", {"idList": doing})
    sync_source_now(store, source_id=source_id, full=False)
    assert done_time(store, card_id) is None


def test_a_full_sync_dates_every_card_in_a_done_list(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)

    with store.sessions() as session:
        undated = session.scalar(
            select(func.count())
            .select_from(WorkItemRow)
            .where(
                WorkItemRow.source_id == source_id,
                WorkItemRow.status_category == StatusCategory.DONE.value,
                WorkItemRow.resolved_at.is_(None),
            )
        )
        dated = session.scalar(
            select(func.count())
            .select_from(WorkItemRow)
            .where(WorkItemRow.source_id == source_id, WorkItemRow.resolved_at.is_not(None))
        )
    assert undated == 0
    assert dated
