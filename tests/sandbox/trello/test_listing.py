"""Board actions paging (since/before past the 1,000 cap), card paging and filters, over HTTP."""

from __future__ import annotations

import httpx
import pytest

from sandbox.trello.ids import iso
from sandbox.trello.state import TrelloWorld


def _board(world: TrelloWorld) -> str:
    return next(iter(world.boards))


def _actions(client: httpx.Client, board_id: str, auth: dict[str, str], **params: str) -> httpx.Response:
    return client.get(f"/1/boards/{board_id}/actions", params={**auth, **params})


def test_listing_board_has_more_actions_than_one_page(big_world: TrelloWorld) -> None:
    assert len(big_world.board_actions[_board(big_world)]) > 1500


def test_listing_actions_come_newest_first_capped_at_limit(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str]
) -> None:
    page = _actions(big_client, _board(big_world), auth, limit="1000").json()
    ids = [action["id"] for action in page]
    assert len(ids) == 1000
    assert ids == sorted(ids, reverse=True)


def test_listing_before_paging_walks_every_action_once(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str]
) -> None:
    board_id, seen = _board(big_world), []
    params: dict[str, str] = {"limit": "1000"}
    while True:
        page = _actions(big_client, board_id, auth, **params).json()
        seen += [action["id"] for action in page]
        if len(page) < 1000:
            break
        params["before"] = min(action["id"] for action in page)
    assert seen == [action.id for action in reversed(big_world.board_actions[board_id])]


def test_listing_since_id_returns_only_newer_actions(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str]
) -> None:
    feed = big_world.board_actions[_board(big_world)]
    cursor = feed[-40].id
    page = _actions(big_client, _board(big_world), auth, since=cursor, limit="1000").json()
    assert [action["id"] for action in page] == [action.id for action in reversed(feed[-39:])]


def test_listing_since_date_includes_actions_of_that_second(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str]
) -> None:
    feed = big_world.board_actions[_board(big_world)]
    pivot = feed[-25]
    page = _actions(big_client, _board(big_world), auth, since=iso(pivot.date) or "", limit="1000").json()
    assert pivot.id in {action["id"] for action in page}
    assert all(action["date"] >= (iso(pivot.date) or "")[:19] for action in page)


def test_listing_filter_selects_update_card_subtype(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str]
) -> None:
    page = _actions(big_client, _board(big_world), auth, filter="updateCard:idList", limit="200").json()
    assert page
    assert all(action["type"] == "updateCard" and "idList" in action["data"]["old"] for action in page)


@pytest.mark.parametrize("limit", ["1001", "-1", "many"], ids=["over-cap", "negative", "not-a-number"])
def test_listing_bad_limit_answers_400(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str], limit: str
) -> None:
    response = _actions(big_client, _board(big_world), auth, limit=limit)
    assert response.status_code == 400
    assert response.text == "invalid value for limit"


def test_listing_cards_before_id_pages_through_all_cards(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str]
) -> None:
    board_id, seen = _board(big_world), []
    params = {**auth, "filter": "all", "limit": "100", "fields": "id"}
    while True:
        page = big_client.get(f"/1/boards/{board_id}/cards", params=params).json()
        seen += [card["id"] for card in page]
        if len(page) < 100:
            break
        params["before"] = min(card["id"] for card in page)
    assert sorted(seen) == sorted(big_world.boards[board_id].card_ids)


def test_listing_cards_sort_id_orders_the_page(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str]
) -> None:
    params = {**auth, "filter": "all", "limit": "50", "sort": "-id", "fields": "id"}
    ids = [
        card["id"] for card in big_client.get(f"/1/boards/{_board(big_world)}/cards", params=params).json()
    ]
    assert ids == sorted(big_world.boards[_board(big_world)].card_ids, reverse=True)[:50]


def _count(world: TrelloWorld, predicate: str) -> int:
    cards = [world.cards[card_id] for card_id in world.boards[_board(world)].card_ids]
    return sum(
        {
            "all": True,
            "open": not card.closed,
            "closed": card.closed,
            "visible": not card.closed and not world.lists[card.id_list].closed,
            "complete": card.due_complete,
        }[predicate]
        for card in cards
    )


@pytest.mark.parametrize(
    ("how", "name"),
    [
        ("path", "all"),
        ("param", "all"),
        ("path", "closed"),
        ("param", "open"),
        ("path", "visible"),
        ("path", "complete"),
    ],
    ids=["path-all", "param-all", "path-closed", "param-open", "path-visible", "path-complete"],
)
def test_listing_card_filters_select_matching_cards(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str], how: str, name: str
) -> None:
    board_id = _board(big_world)
    if how == "path":
        response = big_client.get(f"/1/boards/{board_id}/cards/{name}", params=auth)
    else:
        response = big_client.get(f"/1/boards/{board_id}/cards", params={**auth, "filter": name})
    assert len(response.json()) == _count(big_world, name)


def test_listing_cards_without_filter_are_the_open_ones(
    big_world: TrelloWorld, big_client: httpx.Client, auth: dict[str, str]
) -> None:
    response = big_client.get(f"/1/boards/{_board(big_world)}/cards", params=auth)
    assert len(response.json()) == _count(big_world, "open") < _count(big_world, "all")
