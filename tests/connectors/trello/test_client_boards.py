from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from connectors.http import PaginationLoopError
from connectors.trello import TrelloClient

BOARD_ID = "60a1b2c3d4e5f60718293a4b"
ApiFixture = Callable[[str], Any]


def test_get_board_asks_for_every_nested_collection_in_one_call(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture
) -> None:
    route = router.get(f"/1/boards/{BOARD_ID}").mock(
        return_value=httpx.Response(200, json=api_fixture("board_full"))
    )

    client.get_board(BOARD_ID)

    params = route.calls.last.request.url.params
    assert route.call_count == 1
    assert {
        name: params[name] for name in ("lists", "labels", "members", "customFields", "actions", "cards")
    } == {
        "lists": "all",
        "labels": "all",
        "members": "all",
        "customFields": "true",
        "actions": "none",
        "cards": "none",
    }
    assert params["labels_limit"] == "1000"


def test_get_board_parses_lists_labels_members_custom_fields_and_organization(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture
) -> None:
    router.get(f"/1/boards/{BOARD_ID}").mock(return_value=httpx.Response(200, json=api_fixture("board_full")))

    board = client.get_board(BOARD_ID)

    assert [(lst.name, lst.closed) for lst in board.lists] == [
        ("To do", False),
        ("Doing", False),
        ("Old", True),
    ]
    assert [(label.name, label.color) for label in board.labels] == [("Blocked", "red"), ("", "green")]
    assert [member.username for member in board.members] == ["dana"]
    priority = board.custom_fields[0]
    assert (priority.name, priority.type) == ("Priority", "list")
    assert priority.option_text("60a1b2c3d4e5f60718293a71") == "High"
    assert board.organization is not None and board.organization.display_name == "Acme Agency"
    assert board.date_last_activity == datetime(2024, 1, 22, 8, 30, tzinfo=UTC)


def test_list_member_boards_sends_filter_and_organization(client: TrelloClient, router: respx.Router) -> None:
    route = router.get("/1/members/me/boards").mock(
        return_value=httpx.Response(200, json=[{"id": BOARD_ID, "name": "Acme Website", "closed": False}])
    )

    boards = client.list_member_boards(filter="all")

    params = route.calls.last.request.url.params
    assert (params["filter"], params["organization"]) == ("all", "true")
    assert [board.id for board in boards] == [BOARD_ID]
    assert boards[0].lists == []


def test_iter_board_cards_requests_all_cards_with_checklists_and_custom_fields(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture
) -> None:
    route = router.get(f"/1/boards/{BOARD_ID}/cards").mock(
        return_value=httpx.Response(200, json=[api_fixture("card_full")])
    )

    cards = list(client.iter_board_cards(BOARD_ID))

    params = route.calls.last.request.url.params
    assert (params["filter"], params["checklists"], params["customFieldItems"], params["fields"]) == (
        "all",
        "all",
        "true",
        "all",
    )
    assert "before" not in params
    assert len(cards) == 1


@pytest.mark.parametrize("card_filter", ["open", "closed", "visible"], ids=["open", "closed", "visible"])
def test_iter_board_cards_passes_the_filter(
    client: TrelloClient, router: respx.Router, card_filter: Any
) -> None:
    route = router.get(f"/1/boards/{BOARD_ID}/cards").mock(return_value=httpx.Response(200, json=[]))

    assert list(client.iter_board_cards(BOARD_ID, filter=card_filter)) == []
    assert route.calls.last.request.url.params["filter"] == card_filter


def test_iter_board_cards_parses_the_wire_card(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture
) -> None:
    router.get(f"/1/boards/{BOARD_ID}/cards").mock(
        return_value=httpx.Response(200, json=[api_fixture("card_full")])
    )

    (card,) = client.iter_board_cards(BOARD_ID)

    assert (card.id_short, card.name, card.id_list, card.closed, card.due_complete) == (
        42,
        "Launch landing page",
        "60a1b2c3d4e5f60718293a51",
        False,
        False,
    )
    assert card.due == datetime(2024, 2, 15, 17, tzinfo=UTC)
    assert card.start == datetime(2024, 1, 15, 9, tzinfo=UTC)
    assert (card.badges.check_items, card.badges.check_items_checked) == (4, 1)
    assert [item.state for item in card.checklists[0].check_items] == ["complete", "incomplete"]
    assert card.labels[0].name == "Blocked"
    assert card.pos == 16383.75
    assert card.short_url == "https://trello.com/c/Xy12Ab34"
    priority = card.custom_field_item("60a1b2c3d4e5f60718293a70")
    estimate = card.custom_field_item("60a1b2c3d4e5f60718293a73")
    assert priority is not None and priority.id_value == "60a1b2c3d4e5f60718293a71"
    assert estimate is not None and estimate.value is not None and estimate.value.number == "5"
    assert card.created_at == datetime.fromtimestamp(0x65A7D0AA, tz=UTC)


def test_iter_board_cards_full_page_continues_before_the_smallest_id(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture, make_id: Callable[..., str]
) -> None:
    card = api_fixture("card_full")
    first = [{**card, "id": make_id(1000, n)} for n in (5, 2, 9)]
    second = [{**card, "id": make_id(900, 1)}]
    route = router.get(f"/1/boards/{BOARD_ID}/cards").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )

    cards = list(client.iter_board_cards(BOARD_ID, page_size=3))

    assert len(cards) == 4
    assert route.calls[1].request.url.params["before"] == make_id(1000, 2)
    assert route.calls[1].request.url.params["limit"] == "3"


def test_iter_board_cards_server_ignoring_before_raises_pagination_loop(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture, make_id: Callable[..., str]
) -> None:
    page = [{**api_fixture("card_full"), "id": make_id(1000, n)} for n in (1, 2)]
    router.get(f"/1/boards/{BOARD_ID}/cards").mock(return_value=httpx.Response(200, json=page))

    with pytest.raises(PaginationLoopError):
        list(client.iter_board_cards(BOARD_ID, page_size=2))


def test_iter_board_cards_page_size_out_of_range_raises(client: TrelloClient) -> None:
    with pytest.raises(ValueError, match="page_size"):
        list(client.iter_board_cards(BOARD_ID, page_size=1001))


def test_get_card_requests_checklists_and_custom_field_items(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture
) -> None:
    route = router.get("/1/cards/65a7d0aa1f2e3d4c5b6a7980").mock(
        return_value=httpx.Response(200, json=api_fixture("card_full"))
    )

    card = client.get_card("65a7d0aa1f2e3d4c5b6a7980")

    params = route.calls.last.request.url.params
    assert (params["checklists"], params["customFieldItems"]) == ("all", "true")
    assert card.id_checklists == ["65a7d0aa1f2e3d4c5b6a7990"]


def test_list_card_checklists_and_custom_field_items_parse(
    client: TrelloClient, router: respx.Router, api_fixture: ApiFixture
) -> None:
    card = api_fixture("card_full")
    router.get("/1/cards/c1/checklists").mock(return_value=httpx.Response(200, json=card["checklists"]))
    router.get("/1/cards/c1/customFieldItems").mock(
        return_value=httpx.Response(200, json=card["customFieldItems"])
    )

    checklists = client.list_card_checklists("c1")
    items = client.list_card_custom_field_items("c1")

    assert checklists[0].check_items[1].due == datetime(2024, 2, 10, 12, tzinfo=UTC)
    assert [item.id_custom_field for item in items] == [
        "60a1b2c3d4e5f60718293a70",
        "60a1b2c3d4e5f60718293a73",
    ]
