"""The independent reference client py-trello 0.20.1 against the sandbox over loopback."""

from __future__ import annotations

from typing import Protocol

import pytest
import requests
from trello import TrelloClient, Unauthorized  # type: ignore[import-untyped]
from trello.customfield import CustomFieldList  # type: ignore[import-untyped]

from sandbox.trello.state import TrelloWorld


class HttpService(Protocol):
    urls: list[str]

    def request(self, method: str, url: str, **kwargs: object) -> requests.Response: ...

    def post(self, url: str, **kwargs: object) -> requests.Response: ...


class ReceiverLike(Protocol):
    base_url: str
    posts: list[tuple[dict[str, str], bytes, str]]


def _client(world: TrelloWorld, http: HttpService) -> TrelloClient:
    # py-trello sends `token=api_secret` as the query token when no OAuth token is given [reference §10].
    token = next(iter(world.tokens))
    return TrelloClient(api_key=world.api_key, api_secret=token, http_service=http)


def test_pytrello_lists_boards(served_world: tuple[TrelloWorld, str], trello_http: HttpService) -> None:
    world, _ = served_world
    boards = _client(world, trello_http).list_boards()
    assert sorted(board.name for board in boards) == sorted(board.name for board in world.boards.values())
    assert trello_http.urls[0].split("?")[0].endswith("/1/members/me/boards/")


def test_pytrello_reads_all_cards_with_custom_fields(
    served_world: tuple[TrelloWorld, str], trello_http: HttpService
) -> None:
    world, _ = served_world
    board = _client(world, trello_http).get_board(next(iter(world.boards)))
    cards = board.all_cards()
    assert {card.id for card in cards} == set(world.boards[board.id].card_ids)
    list_values = [
        field.value for card in cards for field in card.customFields if isinstance(field, CustomFieldList)
    ]
    assert list_values and set(list_values) <= {"High", "Medium", "Low"}


def test_pytrello_reads_lists_and_a_card(
    served_world: tuple[TrelloWorld, str], trello_http: HttpService
) -> None:
    world, _ = served_world
    client = _client(world, trello_http)
    board = client.get_board(next(iter(world.boards)))
    card_id = next(iter(world.boards[board.id].card_ids))
    card = client.get_card(card_id)
    assert [lst.name for lst in board.open_lists()] == ["Backlog", "To Do", "Doing", "Review", "Done"]
    assert len(board.all_lists()) == 7
    assert (card.id, card.idList) == (card_id, world.cards[card_id].id_list)


def test_pytrello_fetches_board_actions(
    served_world: tuple[TrelloWorld, str], trello_http: HttpService
) -> None:
    world, _ = served_world
    board = _client(world, trello_http).get_board(next(iter(world.boards)))
    actions = board.fetch_actions("updateCard", action_limit=10)
    assert len(actions) == 10
    assert {action["type"] for action in actions} == {"updateCard"}


def test_pytrello_comment_is_recorded(
    served_world: tuple[TrelloWorld, str], trello_http: HttpService
) -> None:
    world, _ = served_world
    client = _client(world, trello_http)
    card = client.get_card(next(iter(world.cards)))
    action = card.comment("Status update from pmbridge")
    assert action["type"] == "commentCard"
    assert world.card_actions[card.id][-1].data["text"] == "Status update from pmbridge"


def test_pytrello_oauth1_signed_requests_are_accepted(
    served_world: tuple[TrelloWorld, str], trello_http: HttpService
) -> None:
    world, _ = served_world
    token = next(iter(world.tokens))
    client = TrelloClient(
        api_key=world.api_key,
        api_secret=world.app_secret,
        token=token,
        token_secret="unused",
        http_service=trello_http,
    )
    assert len(client.list_boards()) == len(world.boards)


def test_pytrello_wrong_token_raises_unauthorized(
    served_world: tuple[TrelloWorld, str], trello_http: HttpService
) -> None:
    world, _ = served_world
    client = TrelloClient(api_key=world.api_key, api_secret="ATTAwrong", http_service=trello_http)
    with pytest.raises(Unauthorized, match="invalid token"):
        client.list_boards()


def test_pytrello_creates_lists_and_deletes_a_webhook(
    served_world: tuple[TrelloWorld, str], trello_http: HttpService, receiver: ReceiverLike
) -> None:
    world, _ = served_world
    client = _client(world, trello_http)
    board_id = next(iter(world.boards))
    hook = client.create_hook(receiver.base_url + "/hooks/trello", board_id, desc="pmbridge")
    listed = [h.id for h in client.list_hooks()]
    hook.delete()
    assert hook.id in listed
    assert hook.id not in world.webhooks
