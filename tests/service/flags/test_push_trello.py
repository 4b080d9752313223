"""Flag comments on Trello cards: a marker line instead of a property, the action id stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.http import RetryPolicy
from service.flags.push import drain_pushes
from service.flags.push_queue import queue_flag_push
from service.store.db import transaction
from service.store.orm import FlagRow
from service.store.runtime import Store
from tests.support.flags import NOW, add_flag, add_sandbox_items, as_flag, change_flag, get_flag
from tests.support.trello_sandbox import (
    SandboxWithCommentEdits,
    TrelloSandbox,
    WorkerKilled,
    serve_trello_sandbox,
)

FAST = RetryPolicy.without_waiting(max_retry_after=0.0)


@pytest.fixture
def trello() -> Iterator[TrelloSandbox]:
    with serve_trello_sandbox("tiny", seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def card_item(store: Store, trello: TrelloSandbox) -> tuple[str, int]:
    """(card id, item id) of a card without comments yet, in a project with pushing on."""
    source_id = trello.add_source(store)
    world = trello.world
    with world.lock:
        card = next(
            c
            for c in world.cards.values()
            if not any(a.type == "commentCard" for a in world.card_actions.get(c.id, []))
        )
        key = f"{world.boards[card.id_board].short_link}-{card.id_short}"
    [item_id] = add_sandbox_items(store, source_id=source_id, issues=[(key, card.id)], push={"enabled": True})
    return card.id, item_id


def _comments(trello: TrelloSandbox, card_id: str) -> list[str]:
    world = trello.world
    with world.lock:
        return [str(a.data["text"]) for a in world.card_actions.get(card_id, []) if a.type == "commentCard"]


def _open_flag(store: Store, item_id: int) -> int:
    with transaction(store.sessions) as session:
        flag = add_flag(session, subject_id=item_id)
        queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
        return flag.id


def test_drain_pushes_trello_card_gets_one_comment_ending_with_the_marker(
    store: Store, trello: TrelloSandbox, card_item: tuple[str, int]
) -> None:
    card_id, item_id = card_item
    flag_id = _open_flag(store, item_id)

    summary = drain_pushes(store, now=NOW, transport=SandboxWithCommentEdits(trello.world), retry=FAST)

    assert summary.created == 1
    [text] = _comments(trello, card_id)
    assert text.splitlines()[-1] == f"pmbridge-flag:{flag_id}"
    assert get_flag(store, flag_id).pushed_comment_id is not None


def test_drain_pushes_trello_change_edits_the_stored_comment(
    store: Store, trello: TrelloSandbox, card_item: tuple[str, int]
) -> None:
    card_id, item_id = card_item
    transport = SandboxWithCommentEdits(trello.world)
    flag_id = _open_flag(store, item_id)
    drain_pushes(store, now=NOW, transport=transport, retry=FAST)
    with transaction(store.sessions) as session:
        flag = session.get(FlagRow, flag_id)
        assert flag is not None
        change_flag(session, flag, days_overdue=8)
        queue_flag_push(session, flag=as_flag(session, flag), now=NOW)

    summary = drain_pushes(store, now=NOW, transport=transport, retry=FAST)

    assert summary.updated == 1
    [text] = _comments(trello, card_id)
    assert "days overdue: 8" in text


def test_drain_pushes_trello_killed_after_posting_finds_the_comment_by_its_marker(
    store: Store, trello: TrelloSandbox, card_item: tuple[str, int]
) -> None:
    card_id, item_id = card_item
    flag_id = _open_flag(store, item_id)
    with pytest.raises(WorkerKilled):
        drain_pushes(store, now=NOW, transport=SandboxWithCommentEdits(trello.world, kill_after_create=True))

    summary = drain_pushes(store, now=NOW.replace(hour=13), transport=SandboxWithCommentEdits(trello.world))

    assert summary.recovered == 1
    [text] = _comments(trello, card_id)
    assert text.endswith(f"pmbridge-flag:{flag_id}")
