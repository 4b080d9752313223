from __future__ import annotations

import httpx

from sandbox.trello.state import TrelloWorld


def _board(world: TrelloWorld) -> str:
    return next(iter(world.boards))


def _card_with(world: TrelloWorld, attribute: str) -> str:
    return next(card.id for card in world.cards.values() if getattr(card, attribute))


def test_endpoints_board_without_params_has_only_default_fields(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    body = client.get(f"/1/boards/{_board(world)}", params=auth).json()
    assert set(body) == {
        "id", "name", "desc", "descData", "closed", "idOrganization", "pinned", "url", "shortUrl", "prefs",
        "labelNames",
    }  # fmt: skip


def test_endpoints_board_nests_lists_labels_members_and_custom_fields(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    params = {
        **auth,
        "lists": "all",
        "labels": "all",
        "members": "all",
        "customFields": "true",
        "fields": "name",
    }
    body = client.get(f"/1/boards/{_board(world)}", params=params).json()
    assert len(body["lists"]) == 7
    assert any(lst["closed"] for lst in body["lists"])
    assert {"Blocked", "Milestone"} <= {label["name"] for label in body["labels"]}
    assert all(set(member) == {"id", "fullName", "username"} for member in body["members"])
    assert {field["type"] for field in body["customFields"]} == {"list", "number", "checkbox", "date", "text"}


def test_endpoints_board_lists_default_to_open(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    body = client.get(f"/1/boards/{_board(world)}/lists", params=auth).json()
    assert [lst["name"] for lst in body] == ["Backlog", "To Do", "Doing", "Review", "Done"]


def test_endpoints_board_labels_default_limit_is_50(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    board = world.boards[_board(world)]
    for number in range(60):
        world.add_label(board, f"extra {number}", "green")
    body = client.get(f"/1/boards/{board.id}/labels", params=auth).json()
    assert len(body) == 50


def test_endpoints_card_fields_selection_keeps_id(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    cards = client.get(f"/1/boards/{_board(world)}/cards", params={**auth, "fields": "name,due"}).json()
    assert all(set(card) == {"id", "name", "due"} for card in cards)


def test_endpoints_card_custom_field_items_are_strings_or_option_ids(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    params = {**auth, "filter": "all", "customFieldItems": "true"}
    cards = client.get(f"/1/boards/{_board(world)}/cards", params=params).json()
    items = [item for card in cards for item in card["customFieldItems"]]
    assert items
    for item in items:
        assert item["modelType"] == "card"
        assert "idValue" in item or all(isinstance(v, str) for v in item["value"].values())


def test_endpoints_card_checklists_are_nested_on_request(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    card_id = _card_with(world, "id_checklists")
    body = client.get(f"/1/cards/{card_id}", params={**auth, "checklists": "all"}).json()
    assert body["checklists"][0]["idCard"] == card_id
    assert body["badges"]["checkItems"] == sum(len(cl["checkItems"]) for cl in body["checklists"])


def test_endpoints_card_is_found_by_short_link(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    card = next(iter(world.cards.values()))
    body = client.get(f"/1/cards/{card.short_link}", params=auth).json()
    assert body["id"] == card.id
    assert body["url"].startswith(f"https://trello.com/c/{card.short_link}/{card.id_short}-")


def test_endpoints_card_actions_default_to_comments_and_list_moves(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    card_id = next(cid for cid, feed in world.card_actions.items() if len(feed) > 4 and cid in world.cards)
    body = client.get(f"/1/cards/{card_id}/actions", params=auth).json()
    assert body
    assert all(
        action["type"] == "commentCard" or "idList" in action["data"].get("old", {}) for action in body
    )


def test_endpoints_comment_post_records_comment_card_action(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    card_id = next(iter(world.cards))
    response = client.post(f"/1/cards/{card_id}/actions/comments", params=auth, json={"text": "Hello client"})
    assert response.status_code == 200
    action = response.json()
    assert (action["type"], action["data"]["text"]) == ("commentCard", "Hello client")
    assert world.card_actions[card_id][-1].id == action["id"]


def test_endpoints_member_boards_nest_open_lists(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    body = client.get("/1/members/me/boards", params={**auth, "fields": "name", "lists": "open"}).json()
    assert all(len(board["lists"]) == 5 for board in body)


def test_endpoints_member_organizations_list_the_workspace(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    body = client.get("/1/members/me/organizations", params=auth).json()
    assert [org["displayName"] for org in body] == ["Agency Delivery"]
    assert len(body[0]["idBoards"]) == 2
