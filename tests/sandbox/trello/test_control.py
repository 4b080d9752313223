from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from sandbox.trello.models import Card
from sandbox.trello.state import TrelloWorld

CONTROL = "/_sandbox/trello"


def _open_card(world: TrelloWorld, *, with_due: bool = False) -> Card:
    return next(
        card
        for card in world.cards.values()
        if not card.closed and not world.lists[card.id_list].closed and (card.due is not None or not with_due)
    )


def _list_named(world: TrelloWorld, card: Card, name: str) -> str:
    board = world.boards[card.id_board]
    return next(lid for lid in board.list_ids if world.lists[lid].name == name)


def test_control_move_records_update_card_with_old_id_list(world: TrelloWorld, client: httpx.Client) -> None:
    card = _open_card(world)
    before, after = card.id_list, _list_named(world, card, "Review")
    if before == after:
        after = _list_named(world, card, "Doing")
    (action,) = client.post(f"{CONTROL}/cards/{card.id}/move", json={"idList": after}).json()["actions"]
    assert action["type"] == "updateCard"
    assert action["data"]["old"] == {"idList": before}
    assert (action["data"]["listBefore"]["id"], action["data"]["listAfter"]["id"]) == (before, after)
    assert action["display"]["translationKey"] == "action_move_card_from_list_to_list"
    assert world.cards[card.id].id_list == after


def test_control_due_change_records_previous_due(world: TrelloWorld, client: httpx.Client) -> None:
    card = _open_card(world, with_due=True)
    old_due = card.due
    assert old_due is not None
    response = client.post(f"{CONTROL}/cards/{card.id}/due", json={"due": "2025-05-01T15:00:00.000Z"})
    (action,) = response.json()["actions"]
    assert action["data"]["old"] == {"due": old_due.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    assert action["data"]["card"]["due"] == "2025-05-01T15:00:00.000Z"
    assert world.cards[card.id].due == datetime(2025, 5, 1, 15, tzinfo=UTC)


def test_control_blocked_label_by_name_records_add_label(world: TrelloWorld, client: httpx.Client) -> None:
    card = next(
        c for c in world.cards.values() if not any(world.labels[i].name == "Blocked" for i in c.id_labels)
    )
    (action,) = client.post(f"{CONTROL}/cards/{card.id}/labels", json={"add": ["blocked"]}).json()["actions"]
    assert (action["type"], action["data"]["label"]["name"], action["data"]["label"]["color"]) == (
        "addLabelToCard",
        "Blocked",
        "red",
    )


def test_control_adding_a_label_twice_records_nothing(world: TrelloWorld, client: httpx.Client) -> None:
    card = _open_card(world)
    client.post(f"{CONTROL}/cards/{card.id}/labels", json={"add": ["Milestone"]})
    again = client.post(f"{CONTROL}/cards/{card.id}/labels", json={"add": ["Milestone"]}).json()
    assert again == {"actions": []}


def test_control_members_records_add_and_remove(world: TrelloWorld, client: httpx.Client) -> None:
    card = _open_card(world)
    board = world.boards[card.id_board]
    outsider = next(m for m in board.member_ids if m not in card.id_members and m != world.me.id)
    assigned = list(card.id_members)
    body = {"add": [outsider], "remove": assigned}
    kinds = [
        a["type"] for a in client.post(f"{CONTROL}/cards/{card.id}/members", json=body).json()["actions"]
    ]
    assert kinds == ["addMemberToCard"] + ["removeMemberFromCard"] * len(assigned)
    assert world.cards[card.id].id_members == [outsider]


def test_control_archive_records_closed_change(world: TrelloWorld, client: httpx.Client) -> None:
    card = _open_card(world)
    (action,) = client.post(f"{CONTROL}/cards/{card.id}/archive", json={}).json()["actions"]
    assert (action["data"]["old"], action["data"]["card"]["closed"]) == ({"closed": False}, True)
    assert action["display"]["translationKey"] == "action_archived_card"


def test_control_delete_removes_card_and_records_delete_card(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    card = _open_card(world)
    (action,) = client.delete(f"{CONTROL}/cards/{card.id}").json()["actions"]
    assert action["type"] == "deleteCard"
    assert action["data"]["card"] == {"id": card.id, "idShort": card.id_short}
    assert client.get(f"/1/cards/{card.id}", params=auth).status_code == 404


def test_control_comment_records_comment_card(world: TrelloWorld, client: httpx.Client) -> None:
    card = _open_card(world)
    (action,) = client.post(f"{CONTROL}/cards/{card.id}/comments", json={"text": "Ship it"}).json()["actions"]
    assert (action["type"], action["data"]["text"]) == ("commentCard", "Ship it")
    assert world.cards[card.id].comments >= 1


def test_control_move_to_board_records_one_action_on_each_board(
    world: TrelloWorld, client: httpx.Client
) -> None:
    card = _open_card(world)
    source = card.id_board
    target = next(board_id for board_id in world.boards if board_id != source)
    actions = client.post(f"{CONTROL}/cards/{card.id}/move-to-board", json={"idBoard": target}).json()[
        "actions"
    ]
    assert [(a["type"], a["data"]["board"]["id"]) for a in actions] == [
        ("moveCardFromBoard", source),
        ("moveCardToBoard", target),
    ]
    assert world.board_actions[target][-1].type == "moveCardToBoard"
    assert card.id in world.boards[target].card_ids


def test_control_create_card_records_create_then_due(world: TrelloWorld, client: httpx.Client) -> None:
    board = world.boards[next(iter(world.boards))]
    body = {"name": "New request", "idList": board.list_ids[1], "due": "2025-04-01T12:00:00Z"}
    actions = client.post(f"{CONTROL}/boards/{board.id}/cards", json=body).json()["actions"]
    assert [a["type"] for a in actions] == ["createCard", "updateCard"]
    assert actions[1]["display"]["translationKey"] == "action_added_a_due_date"


def test_control_checklist_records_add_create_item_and_tick(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    card = _open_card(world)
    (added,) = client.post(f"{CONTROL}/cards/{card.id}/checklists", json={"name": "QA"}).json()["actions"]
    checklist = added["data"]["checklist"]["id"]
    (created,) = client.post(f"{CONTROL}/checklists/{checklist}/items", json={"name": "Links"}).json()[
        "actions"
    ]
    item = created["data"]["checkItem"]["id"]
    body = {"idCheckItem": item, "state": "complete"}
    (ticked,) = client.post(f"{CONTROL}/cards/{card.id}/check-item-state", json=body).json()["actions"]
    again = client.post(f"{CONTROL}/cards/{card.id}/check-item-state", json=body).json()["actions"]

    assert [a["type"] for a in (added, created, ticked)] == [
        "addChecklistToCard",
        "createCheckItem",
        "updateCheckItemStateOnCard",
    ]
    assert {a["data"]["card"]["id"] for a in (added, created, ticked)} == {card.id}
    assert (ticked["data"]["checkItem"]["state"], ticked["display"]["translationKey"]) == (
        "complete",
        "action_completed_checkitem",
    )
    assert again == []
    served = client.get(f"/1/cards/{card.id}", params=auth).json()
    assert served["badges"]["checkItemsChecked"] >= 1
    assert checklist in served["idChecklists"]


def test_control_copy_records_copy_card_on_the_new_card(world: TrelloWorld, client: httpx.Client) -> None:
    card = _open_card(world)
    (action,) = client.post(
        f"{CONTROL}/cards/{card.id}/copy", json={"idList": card.id_list, "name": "Second run"}
    ).json()["actions"]

    copy = world.cards[action["data"]["card"]["id"]]
    assert (action["type"], action["data"]["cardSource"]["id"]) == ("copyCard", card.id)
    assert (copy.name, copy.id_board, copy.id_labels) == ("Second run", card.id_board, card.id_labels)
    assert world.card_actions[copy.id][-1].type == "copyCard"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/cards/" + "a" * 24 + "/move", {"idList": "x"}, 404),
        ("/cards/CARD/due", {"due": "next week"}, 400),
        ("/cards/CARD/labels", {"add": ["No such label"]}, 400),
        ("/cards/CARD/check-item-state", {"idCheckItem": "a" * 24, "state": "complete"}, 404),
        ("/cards/CARD/check-item-state", {"idCheckItem": "a" * 24, "state": "done"}, 400),
        ("/checklists/" + "b" * 24 + "/items", {"name": "x"}, 404),
        ("/cards/CARD/copy", {"idList": "c" * 24}, 400),
    ],
    ids=[
        "unknown-card",
        "bad-date",
        "unknown-label",
        "unknown-check-item",
        "bad-state",
        "unknown-checklist",
        "copy-to-unknown-list",
    ],
)
def test_control_invalid_changes_answer_json_errors(
    world: TrelloWorld, client: httpx.Client, path: str, body: dict[str, object], status: int
) -> None:
    response = client.post(CONTROL + path.replace("CARD", _open_card(world).id), json=body)
    assert response.status_code == status
    assert "error" in response.json()


def test_control_actions_use_the_sandbox_clock(world: TrelloWorld, client: httpx.Client) -> None:
    card = _open_card(world)
    (action,) = client.post(f"{CONTROL}/cards/{card.id}/comments", json={"text": "now"}).json()["actions"]
    now = world.clock.now()
    assert action["date"] == now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert int(action["id"][:8], 16) == int(now.timestamp())
