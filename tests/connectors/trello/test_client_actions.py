from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from connectors.http import PaginationLoopError, TransientError
from connectors.trello import TrelloClient

BOARD_ID = "60a1b2c3d4e5f60718293a4b"
ACTIONS_PATH = f"/1/boards/{BOARD_ID}/actions"
MakeId = Callable[..., str]
MakeAction = Callable[..., dict[str, Any]]


def _page(make_id: MakeId, make_action: MakeAction, seconds: int, count: int) -> list[dict[str, Any]]:
    """`count` actions in the second `seconds`, newest first."""
    return [make_action(make_id(seconds, n)) for n in reversed(range(count))]


def test_iter_board_actions_pages_past_1000_with_before_the_oldest_id(
    client: TrelloClient, router: respx.Router, make_id: MakeId, make_action: MakeAction
) -> None:
    pages = [
        _page(make_id, make_action, 3_000, 1000),
        _page(make_id, make_action, 2_000, 1000),
        _page(make_id, make_action, 1_000, 7),
    ]
    route = router.get(ACTIONS_PATH).mock(side_effect=[httpx.Response(200, json=page) for page in pages])

    got = list(client.iter_board_actions(BOARD_ID))

    assert [len(page) for page in got] == [1000, 1000, 7]
    befores = [call.request.url.params.get("before") for call in route.calls]
    assert befores == [None, make_id(3_000, 0), make_id(2_000, 0)]
    assert {call.request.url.params["limit"] for call in route.calls} == {"1000"}


def test_iter_board_actions_sends_filter_as_one_comma_list(
    client: TrelloClient, router: respx.Router
) -> None:
    route = router.get(ACTIONS_PATH).mock(return_value=httpx.Response(200, json=[]))

    assert list(client.iter_board_actions(BOARD_ID, filter=["createCard", "updateCard", "commentCard"])) == []

    assert route.calls.last.request.url.params.get_list("filter") == ["createCard,updateCard,commentCard"]


@pytest.mark.parametrize(
    ("since", "wire"),
    [
        (datetime(2024, 1, 17, 13, 41, 34, 244000, tzinfo=UTC), "2024-01-17T13:41:34.244Z"),
        (datetime(2024, 1, 17, 15, 41, 34, tzinfo=timezone(timedelta(hours=2))), "2024-01-17T13:41:34.000Z"),
        ("65a7d90e0000000000000001", "65a7d90e0000000000000001"),
        ("2024-01-17T13:41:34Z", "2024-01-17T13:41:34.000Z"),
    ],
    ids=["utc-datetime", "offset-datetime", "action-id", "iso-string"],
)
def test_iter_board_actions_sends_since_in_trello_form(
    client: TrelloClient, router: respx.Router, since: str | datetime, wire: str
) -> None:
    route = router.get(ACTIONS_PATH).mock(return_value=httpx.Response(200, json=[]))

    list(client.iter_board_actions(BOARD_ID, since=since))

    assert route.calls.last.request.url.params["since"] == wire


@pytest.mark.parametrize(
    "since",
    [datetime(2024, 1, 17), "yesterday"],
    ids=["naive-datetime", "not-a-date"],
)
def test_iter_board_actions_invalid_since_raises(client: TrelloClient, since: str | datetime) -> None:
    with pytest.raises(ValueError, match="since"):
        list(client.iter_board_actions(BOARD_ID, since=since))


def test_iter_board_actions_full_page_reaching_since_stops(
    client: TrelloClient, router: respx.Router, make_id: MakeId, make_action: MakeAction
) -> None:
    page = _page(make_id, make_action, 2_000, 3) + _page(make_id, make_action, 1_000, 2)
    route = router.get(ACTIONS_PATH).mock(return_value=httpx.Response(200, json=page))

    got = list(client.iter_board_actions(BOARD_ID, since=make_id(1_000, 1), page_size=5))

    assert route.call_count == 1
    assert len(got) == 1


def test_iter_board_actions_repeated_before_raises_pagination_loop(
    client: TrelloClient, router: respx.Router, make_id: MakeId, make_action: MakeAction
) -> None:
    router.get(ACTIONS_PATH).mock(
        return_value=httpx.Response(200, json=_page(make_id, make_action, 2_000, 4))
    )

    with pytest.raises(PaginationLoopError):
        list(client.iter_board_actions(BOARD_ID, page_size=4))


def test_iter_board_actions_resumes_from_given_before(
    client: TrelloClient, router: respx.Router, make_id: MakeId
) -> None:
    route = router.get(ACTIONS_PATH).mock(return_value=httpx.Response(200, json=[]))

    list(client.iter_board_actions(BOARD_ID, before=make_id(5, 0)))

    assert route.calls.last.request.url.params["before"] == make_id(5, 0)


def test_iter_card_comments_walks_pages_of_fifty_until_short(
    client: TrelloClient, router: respx.Router, make_id: MakeId, make_action: MakeAction
) -> None:
    full = [make_action(make_id(2_000, n), action_type="commentCard") for n in range(50)]
    short = [make_action(make_id(1_000, 0), action_type="commentCard")]
    route = router.get("/1/cards/c1/actions").mock(
        side_effect=[httpx.Response(200, json=full), httpx.Response(200, json=short)]
    )

    comments = list(client.iter_card_comments("c1"))

    assert len(comments) == 51
    assert [call.request.url.params["page"] for call in route.calls] == ["0", "1"]
    assert route.calls.last.request.url.params["filter"] == "commentCard"


def test_iter_card_comments_stops_at_trellos_page_cap(
    client: TrelloClient, router: respx.Router, make_id: MakeId, make_action: MakeAction
) -> None:
    full = [make_action(make_id(2_000, n), action_type="commentCard") for n in range(50)]
    route = router.get("/1/cards/c1/actions").mock(return_value=httpx.Response(200, json=full))

    assert len(list(client.iter_card_comments("c1"))) == 1000
    assert route.call_count == 20


def test_create_comment_posts_text_in_json_body(
    client: TrelloClient, router: respx.Router, make_action: MakeAction
) -> None:
    created = {
        **make_action("65a7d90e0000000000000006", action_type="commentCard"),
        "data": {"text": "Shipped"},
    }
    route = router.post("/1/cards/c1/actions/comments").mock(return_value=httpx.Response(200, json=created))

    action = client.create_comment("c1", "Shipped")

    assert json.loads(route.calls.last.request.content) == {"text": "Shipped"}
    assert (action.id, action.type, action.data.text) == (
        "65a7d90e0000000000000006",
        "commentCard",
        "Shipped",
    )


def test_create_comment_server_error_is_not_retried(client: TrelloClient, router: respx.Router) -> None:
    route = router.post("/1/cards/c1/actions/comments").mock(return_value=httpx.Response(502))

    with pytest.raises(TransientError):
        client.create_comment("c1", "Shipped")

    assert route.call_count == 1


def test_update_comment_puts_text_to_the_comment_route(
    client: TrelloClient, router: respx.Router, make_action: MakeAction
) -> None:
    updated = {
        **make_action("65a7d90e0000000000000006", action_type="commentCard"),
        "data": {"text": "Edited"},
    }
    route = router.put("/1/cards/c1/actions/65a7d90e0000000000000006/comments").mock(
        return_value=httpx.Response(200, json=updated)
    )

    action = client.update_comment("c1", "65a7d90e0000000000000006", "Edited")

    assert json.loads(route.calls.last.request.content) == {"text": "Edited"}
    assert action.data.text == "Edited"
