from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.clock import SandboxClock
from sandbox.emit import CollectingSink
from sandbox.trello.ids import iso
from sandbox.trello.models import Action, Card
from sandbox.trello.scenario import populate_trello
from sandbox.trello.state import TrelloWorld


def _generate(seed: int) -> TrelloWorld:
    world = TrelloWorld(
        clock=SandboxClock(frozen_at=datetime(2025, 1, 6, tzinfo=UTC)),
        sink=CollectingSink(),
        api_key="k",
        token="t",
        app_secret="s",
    )
    populate_trello(
        world, random.Random(seed), clients=["Acme"], boards=2, cards_per_board=30, days_of_history=30
    )
    return world


def _fingerprint(world: TrelloWorld) -> list[tuple[str, str, str]]:
    return [(a.id, a.type, a.date.isoformat()) for feed in world.board_actions.values() for a in feed]


def _feed(world: TrelloWorld, card: Card) -> list[Action]:
    return sorted(world.card_actions[card.id], key=lambda action: action.id)


def _replayed_list(feed: list[Action]) -> str:
    current = ""
    for action in feed:
        old = action.data.get("old")
        if action.type in {"createCard", "moveCardToBoard"}:
            current = action.data["list"]["id"]  # type: ignore[index]
        elif action.type == "updateCard" and isinstance(old, dict) and "idList" in old:
            current = action.data["card"]["idList"]  # type: ignore[index]
    return current


def _replayed(feed: list[Action], field: str, initial: object) -> object:
    value = initial
    for action in feed:
        old = action.data.get("old")
        if action.type == "updateCard" and isinstance(old, dict) and field in old:
            value = action.data["card"][field]  # type: ignore[index]
    return value


def _old(action: Action) -> dict[str, object]:
    old = action.data.get("old")
    return old if isinstance(old, dict) else {}


def test_scenario_same_seed_generates_the_same_history() -> None:
    assert _fingerprint(_generate(4)) == _fingerprint(_generate(4))


def test_scenario_other_seed_generates_another_history() -> None:
    assert _fingerprint(_generate(4)) != _fingerprint(_generate(5))


def test_scenario_list_moves_replay_to_each_cards_list(scenario_world: TrelloWorld) -> None:
    mismatches = [
        c.id for c in scenario_world.cards.values() if _replayed_list(_feed(scenario_world, c)) != c.id_list
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("field", "attribute", "initial"),
    [
        ("due", "due", None),
        ("start", "start", None),
        ("closed", "closed", False),
        ("dueComplete", "due_complete", False),
    ],
    ids=["due", "start", "closed", "due-complete"],
)
def test_scenario_updates_replay_to_each_cards_value(
    scenario_world: TrelloWorld, field: str, attribute: str, initial: object
) -> None:
    for card in scenario_world.cards.values():
        value = getattr(card, attribute)
        expected = iso(value) if field in {"due", "start"} else value
        assert _replayed(_feed(scenario_world, card), field, initial) == expected, card.id


def test_scenario_label_and_member_actions_replay_to_each_card(scenario_world: TrelloWorld) -> None:
    for card in scenario_world.cards.values():
        feed = _feed(scenario_world, card)
        if any(action.type == "moveCardToBoard" for action in feed):
            continue
        labels: set[str] = set()
        members: set[str] = set()
        for action in feed:
            if action.type in {"addLabelToCard", "removeLabelFromCard"}:
                label_id = action.data["label"]["id"]  # type: ignore[index]
                (labels.add if action.type == "addLabelToCard" else labels.discard)(label_id)
            if action.type in {"addMemberToCard", "removeMemberFromCard"}:
                member_id = str(action.data["idMember"])
                (members.add if action.type == "addMemberToCard" else members.discard)(member_id)
        assert (labels, members) == (set(card.id_labels), set(card.id_members)), card.id


def test_scenario_deleted_cards_end_with_delete_card(scenario_world: TrelloWorld) -> None:
    gone = [card_id for card_id in scenario_world.card_actions if card_id not in scenario_world.cards]
    assert gone
    assert {scenario_world.card_actions[card_id][-1].type for card_id in gone} == {"deleteCard"}


def test_scenario_history_stays_within_the_window(scenario_world: TrelloWorld) -> None:
    now = scenario_world.clock.now()
    dates = [a.date for feed in scenario_world.board_actions.values() for a in feed]
    assert now - timedelta(days=60) <= min(dates)
    assert max(dates) < now


def test_scenario_action_ids_embed_their_dates(scenario_world: TrelloWorld) -> None:
    for feed in scenario_world.board_actions.values():
        assert all(int(a.id[:8], 16) == int(a.date.timestamp()) for a in feed)
        assert [a.id for a in feed] == sorted(a.id for a in feed)


def test_scenario_has_the_situations_pmbridge_watches(scenario_world: TrelloWorld) -> None:
    cards = list(scenario_world.cards.values())
    label_names = Counter(scenario_world.labels[i].name for c in cards for i in c.id_labels)
    due_moves = Counter(
        a.id_card
        for feed in scenario_world.card_actions.values()
        for a in feed
        if a.type == "updateCard" and _old(a).get("due")
    )
    kinds = Counter(a.type for feed in scenario_world.board_actions.values() for a in feed)
    assert label_names["Blocked"] > 0 and label_names["Milestone"] > 0
    assert max(due_moves.values()) >= 2
    assert any(c.closed for c in cards) and any(c.due_complete for c in cards) and any(c.start for c in cards)
    assert any(scenario_world.lists[c.id_list].closed for c in cards)
    assert any(c.custom_field_items for c in cards) and any(c.id_checklists for c in cards)
    assert kinds["moveCardToBoard"] == kinds["moveCardFromBoard"] > 0
    assert kinds["commentCard"] > 0 and kinds["deleteCard"] > 0


def test_scenario_empty_client_list_is_rejected() -> None:
    world = TrelloWorld(clock=SandboxClock(), sink=CollectingSink(), api_key="k", token="t", app_secret="s")
    with pytest.raises(ValueError, match="client"):
        populate_trello(world, random.Random(1), clients=[], boards=1, cards_per_board=1, days_of_history=1)
