"""Control API of the fake Trello, mounted under `/_sandbox/trello`: change the world as people would
(cards created, copied, moved, dated, archived, deleted; members, labels, comments, checklists and
their items).

Every change records the actions Trello records and delivers webhooks; each route answers
`{"actions": [...]}` with the recorded actions in Trello's JSON. `idMemberCreator` in a body picks the
actor (default: the first board member who is not the integration user).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.trello.errors import TrelloWorldError
from sandbox.trello.ids import parse_date
from sandbox.trello.models import Action
from sandbox.trello.serialize import action_json, webhook_json
from sandbox.trello.state import TrelloWorld

Body = dict[str, object]
Change = Callable[[TrelloWorld, str, Body], list[Action | None]]


def _json(payload: object, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _text(body: Body, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise TrelloWorldError(400, f"{name} must be a non-empty string")
    return value


def _optional_text(body: Body, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TrelloWorldError(400, f"{name} must be a string")
    return value


def _date(body: Body, name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None:
        raise TrelloWorldError(400, f"{name} must be an ISO-8601 date or null")
    return parsed


def _flag(body: Body, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise TrelloWorldError(400, f"{name} must be a boolean")
    return value


def _refs(body: Body, name: str) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TrelloWorldError(400, f"{name} must be a list of strings")
    return [str(item) for item in value]


def _move(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    return [world.move_card(card_id, _text(body, "idList"), actor_id=_optional_text(body, "idMemberCreator"))]


def _due(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    return [world.set_date(card_id, "due", _date(body, "due"), actor_id=actor)]


def _start(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    return [world.set_date(card_id, "start", _date(body, "start"), actor_id=actor)]


def _due_complete(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    return [world.set_flag(card_id, "dueComplete", _flag(body, "dueComplete", True), actor_id=actor)]


def _archive(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    return [world.set_flag(card_id, "closed", _flag(body, "closed", True), actor_id=actor)]


def _members(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    added = [world.set_card_member(card_id, m, added=True, actor_id=actor) for m in _refs(body, "add")]
    removed = [world.set_card_member(card_id, m, added=False, actor_id=actor) for m in _refs(body, "remove")]
    return added + removed


def _labels(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    """`add`/`remove` take label ids or names, e.g. `{"add": ["Blocked"]}` or `{"remove": ["milestone"]}`."""
    actor = _optional_text(body, "idMemberCreator")
    added = [world.set_card_label(card_id, ref, added=True, actor_id=actor) for ref in _refs(body, "add")]
    removed = [
        world.set_card_label(card_id, ref, added=False, actor_id=actor) for ref in _refs(body, "remove")
    ]
    return added + removed


def _comment(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    return [world.comment(card_id, _text(body, "text"), actor_id=_optional_text(body, "idMemberCreator"))]


def _copy(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    return [world.copy_card(card_id, _text(body, "idList"), _optional_text(body, "name"), actor_id=actor)]


def _add_checklist(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    return [world.add_card_checklist(card_id, _text(body, "name"), actor_id=actor)]


def _add_check_item(world: TrelloWorld, checklist_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    return [world.add_check_item(checklist_id, _text(body, "name"), actor_id=actor)]


def _check_item_state(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    """`{"idCheckItem": …, "state": "complete" | "incomplete"}`."""
    state = _text(body, "state")
    if state not in ("complete", "incomplete"):
        raise TrelloWorldError(400, "state must be complete or incomplete")
    actor = _optional_text(body, "idMemberCreator")
    item_id = _text(body, "idCheckItem")
    return [world.set_check_item_state(card_id, item_id, complete=state == "complete", actor_id=actor)]


def _delete(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    return [world.delete_card(card_id, actor_id=_optional_text(body, "idMemberCreator"))]


def _move_to_board(world: TrelloWorld, card_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    moved = world.move_card_to_board(
        card_id, _text(body, "idBoard"), _optional_text(body, "idList"), actor_id=actor
    )
    return list(moved)


def _create(world: TrelloWorld, board_id: str, body: Body) -> list[Action | None]:
    actor = _optional_text(body, "idMemberCreator")
    created = world.create_card(
        board_id, _text(body, "idList"), _text(body, "name"), due=_date(body, "due"), actor_id=actor
    )
    return list(created)


async def _body(request: Request) -> Body:
    raw = await request.body()
    if not raw:
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise TrelloWorldError(400, "body must be a JSON object") from None
    if not isinstance(parsed, dict):
        raise TrelloWorldError(400, "body must be a JSON object")
    return parsed


def _change_endpoint(
    world: TrelloWorld, change: Change, param: str
) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        try:
            body = await _body(request)
            with world.lock:
                recorded = change(world, str(request.path_params[param]), body)
                payload = [action_json(world, action) for action in recorded if action is not None]
        except TrelloWorldError as exc:
            return _json({"error": exc.text}, exc.status)
        return _json({"actions": payload})

    return serve


def _overview(world: TrelloWorld) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        with world.lock:
            boards = [
                {
                    "id": board.id,
                    "name": board.name,
                    "lists": [{"id": i, "name": world.lists[i].name} for i in board.list_ids],
                    "labels": [{"id": i, "name": world.labels[i].name} for i in board.label_ids],
                    "members": [{"id": i, "username": world.members[i].username} for i in board.member_ids],
                    "cards": len(board.card_ids),
                    "actions": len(world.board_actions[board.id]),
                }
                for board in world.boards.values()
            ]
            webhooks = [webhook_json(hook) for hook in world.webhooks.values()]
        return _json({"boards": boards, "webhooks": webhooks})

    return serve


_CARD_CHANGES: tuple[tuple[str, str, Change], ...] = (
    ("POST", "/cards/{card_id}/move", _move),
    ("POST", "/cards/{card_id}/due", _due),
    ("POST", "/cards/{card_id}/start", _start),
    ("POST", "/cards/{card_id}/due-complete", _due_complete),
    ("POST", "/cards/{card_id}/archive", _archive),
    ("POST", "/cards/{card_id}/members", _members),
    ("POST", "/cards/{card_id}/labels", _labels),
    ("POST", "/cards/{card_id}/comments", _comment),
    ("POST", "/cards/{card_id}/copy", _copy),
    ("POST", "/cards/{card_id}/checklists", _add_checklist),
    ("POST", "/cards/{card_id}/check-item-state", _check_item_state),
    ("POST", "/cards/{card_id}/move-to-board", _move_to_board),
    ("DELETE", "/cards/{card_id}", _delete),
)


def trello_control_routes(world: TrelloWorld) -> list[BaseRoute]:
    """Routes relative to their mount point, `/_sandbox/trello`."""
    routes: list[BaseRoute] = [
        Route(path, _change_endpoint(world, change, "card_id"), methods=[method])
        for method, path, change in _CARD_CHANGES
    ]
    routes.append(
        Route("/boards/{board_id}/cards", _change_endpoint(world, _create, "board_id"), methods=["POST"])
    )
    routes.append(
        Route(
            "/checklists/{checklist_id}/items",
            _change_endpoint(world, _add_check_item, "checklist_id"),
            methods=["POST"],
        )
    )
    routes.append(Route("/overview", _overview(world), methods=["GET"]))
    return routes
