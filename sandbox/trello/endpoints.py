"""Read handlers of the `/1/...` API: members, organizations, boards, lists, cards and actions."""

from __future__ import annotations

from sandbox.trello.errors import NOT_FOUND, TrelloWorldError
from sandbox.trello.ids import is_object_id, is_short_link
from sandbox.trello.listing import (
    CARD_ACTIONS_DEFAULT_FILTER,
    CARD_FILTERS,
    LIST_FILTERS,
    invalid,
    parse_int,
    select_actions,
    select_cards,
)
from sandbox.trello.models import Action, Board, Card, JsonObject, Member, Organization, TrelloList
from sandbox.trello.serialize import (
    BOARD_DEFAULT_FIELDS,
    MEMBER_SHORT_FIELDS,
    action_json,
    board_json,
    card_json,
    checklist_json,
    custom_field_items_json,
    custom_field_json,
    label_json,
    list_json,
    member_json,
    organization_json,
    select_fields,
)
from sandbox.trello.state import TrelloWorld
from sandbox.trello.transport import TrelloReply, TrelloRequest

BOARD_FILTERS = frozenset({"all", "closed", "members", "open", "organization", "public", "starred"})


def _not_found() -> TrelloWorldError:
    return TrelloWorldError(404, NOT_FOUND)


def _invalid_id() -> TrelloWorldError:
    return TrelloWorldError(400, "invalid id")


def get_board(world: TrelloWorld, ref: str) -> Board:
    if not (is_object_id(ref) or is_short_link(ref)):
        raise _invalid_id()
    board = world.find_board(ref)
    if board is None:
        raise _not_found()
    return board


def get_card(world: TrelloWorld, ref: str) -> Card:
    if not (is_object_id(ref) or is_short_link(ref)):
        raise _invalid_id()
    card = world.find_card(ref)
    if card is None:
        raise _not_found()
    return card


def _get_list(world: TrelloWorld, ref: str) -> TrelloList:
    if not is_object_id(ref):
        raise _invalid_id()
    trello_list = world.lists.get(ref.lower())
    if trello_list is None:
        raise _not_found()
    return trello_list


def _get_member(world: TrelloWorld, req: TrelloRequest, ref: str) -> Member:
    if ref == "me":
        if req.member is None:
            raise _not_found()
        return req.member
    member = world.members.get(ref.lower())
    if member is None:
        member = next((m for m in world.members.values() if m.username == ref), None)
    if member is None:
        raise _not_found()
    return member


def _get_organization(world: TrelloWorld, ref: str) -> Organization:
    org = world.organizations.get(ref.lower()) or next(
        (o for o in world.organizations.values() if o.name == ref), None
    )
    if org is None:
        raise _not_found()
    return org


def _org_json(world: TrelloWorld, org: Organization) -> JsonObject:
    return organization_json(org, [b.id for b in world.boards.values() if b.id_organization == org.id])


def _lists_of(world: TrelloWorld, board: Board, list_filter: str) -> list[TrelloList]:
    if list_filter not in LIST_FILTERS:
        raise invalid("filter")
    lists = [world.lists[list_id] for list_id in board.list_ids]
    if list_filter == "none":
        return []
    if list_filter == "all":
        return lists
    return [trello_list for trello_list in lists if trello_list.closed == (list_filter == "closed")]


def card_out(world: TrelloWorld, card: Card, params: dict[str, str], prefix: str = "") -> JsonObject:
    """A card as selected by `fields`, `customFieldItems`, `checklists`, `members`, `attachments`.

    Nested under a board or list the same parameters carry a `card_` prefix.
    """
    out = select_fields(card_json(world, card), params.get(f"{prefix}fields"))
    if params.get(f"{prefix}customFieldItems", "false") == "true":
        out["customFieldItems"] = custom_field_items_json(card)
    if params.get(f"{prefix}checklists", "none") == "all":
        out["checklists"] = [checklist_json(world.checklists[c]) for c in card.id_checklists]
    if params.get(f"{prefix}members", "false") == "true":
        out["members"] = [member_json(world.members[m], full=False) for m in card.id_members]
    if params.get(f"{prefix}attachments", "false") in {"true", "cover"}:
        out["attachments"] = []
    return out


def _board_cards(world: TrelloWorld, board: Board) -> list[Card]:
    return [world.cards[card_id] for card_id in board.card_ids]


# ---- handlers ----


def member(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = _get_member(world, req, req.path_params["member_id"])
    full = member_json(found, full=True)
    if req.member is not None and found.id == req.member.id:
        full["idBoards"] = [b.id for b in world.boards.values() if found.id in b.member_ids]
        full["idOrganizations"] = list(world.organizations)
    return TrelloReply(json=select_fields(full, req.get("fields")))


def member_boards(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = _get_member(world, req, req.path_params["member_id"])
    board_filter = req.path_params.get("filter") or req.get("filter") or "all"
    if board_filter not in BOARD_FILTERS:
        raise invalid("filter")
    out = []
    for board in world.boards.values():
        if found.id not in board.member_ids:
            continue
        if (board_filter == "open" and board.closed) or (board_filter == "closed" and not board.closed):
            continue
        if board_filter in {"public", "starred"}:
            continue
        if board_filter == "organization" and board.id_organization is None:
            continue
        item = select_fields(board_json(world, board), req.get("fields"))
        lists = req.get("lists", "none") or "none"
        if lists != "none":
            item["lists"] = [list_json(trello_list) for trello_list in _lists_of(world, board, lists)]
        if req.flag("organization") and board.id_organization:
            org = _org_json(world, world.organizations[board.id_organization])
            item["organization"] = select_fields(org, req.get("organization_fields"))
        out.append(item)
    return TrelloReply(json=out)


def member_organizations(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    _get_member(world, req, req.path_params["member_id"])
    orgs = [select_fields(_org_json(world, org), req.get("fields")) for org in world.organizations.values()]
    return TrelloReply(json=orgs)


def organization(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    org = _get_organization(world, req.path_params["org_id"])
    return TrelloReply(json=select_fields(_org_json(world, org), req.get("fields")))


def organization_boards(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    org = _get_organization(world, req.path_params["org_id"])
    boards = [b for b in world.boards.values() if b.id_organization == org.id]
    return TrelloReply(json=[select_fields(board_json(world, b), req.get("fields")) for b in boards])


def board(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    """GET /1/boards/{id} with the nested-resource parameters of [TNEST]."""
    found = get_board(world, req.path_params["board_id"])
    params = req.params
    out = select_fields(board_json(world, found), params.get("fields"), BOARD_DEFAULT_FIELDS)
    if params.get("actions", "none") != "none":
        feed = world.board_actions[found.id]
        nested = {
            "filter": params["actions"],
            "limit": params.get("actions_limit", "50"),
            **{k: params[f"actions_{k}"] for k in ("since", "before") if f"actions_{k}" in params},
        }
        out["actions"] = [action_json(world, action) for action in select_actions(feed, nested)]
    cards_filter = params.get("cards", "none")
    if cards_filter != "none":
        if cards_filter not in CARD_FILTERS:
            raise invalid("cards")
        cards = select_cards(world, _board_cards(world, found), card_filter=cards_filter, params={})
        out["cards"] = [card_out(world, card, params, prefix="card_") for card in cards]
    if params.get("labels", "none") != "none":
        limit = parse_int(params.get("labels_limit"), "labels_limit", default=50, low=0, high=1000)
        labels = [world.labels[label_id] for label_id in found.label_ids][:limit]
        out["labels"] = [label_json(label, found.id_organization) for label in labels]
    if params.get("lists", "none") != "none":
        out["lists"] = [list_json(trello_list) for trello_list in _lists_of(world, found, params["lists"])]
    if params.get("members", "none") != "none":
        member_fields = params.get("member_fields")
        out["members"] = [
            select_fields(member_json(world.members[m], full=True), member_fields, MEMBER_SHORT_FIELDS)
            for m in found.member_ids
        ]
    if params.get("checklists", "none") == "all":
        out["checklists"] = _board_checklists(world, found)
    if params.get("customFields", "false") == "true":
        out["customFields"] = [custom_field_json(world.custom_fields[c]) for c in found.custom_field_ids]
    if params.get("organization", "false") == "true" and found.id_organization:
        org = _org_json(world, world.organizations[found.id_organization])
        out["organization"] = select_fields(org, params.get("organization_fields"))
    return TrelloReply(json=out)


def _board_checklists(world: TrelloWorld, found: Board) -> list[JsonObject]:
    return [
        checklist_json(world.checklists[checklist_id])
        for card in _board_cards(world, found)
        for checklist_id in card.id_checklists
    ]


def board_cards(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = get_board(world, req.path_params["board_id"])
    segment = req.path_params.get("filter")
    if segment and segment not in CARD_FILTERS:
        # py-trello's Board.get_card reads /1/boards/{id}/cards/{idCard}.
        card = get_card(world, segment)
        if card.id_board != found.id:
            raise _not_found()
        return TrelloReply(json=card_out(world, card, req.params))
    card_filter = segment or req.get("filter") or "open"
    cards = select_cards(world, _board_cards(world, found), card_filter=card_filter, params=req.params)
    return TrelloReply(json=[card_out(world, card, req.params) for card in cards])


def board_lists(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = get_board(world, req.path_params["board_id"])
    list_filter = req.path_params.get("filter") or req.get("filter") or "open"
    out = []
    cards_filter = req.get("cards", "none") or "none"
    by_list: dict[str, list[Card]] = {}
    if cards_filter != "none":
        for card in select_cards(world, _board_cards(world, found), card_filter=cards_filter, params={}):
            by_list.setdefault(card.id_list, []).append(card)
    for trello_list in _lists_of(world, found, list_filter):
        item = select_fields(list_json(trello_list), req.get("fields"))
        if cards_filter != "none":
            item["cards"] = [
                card_out(world, card, req.params, prefix="card_") for card in by_list.get(trello_list.id, [])
            ]
        out.append(item)
    return TrelloReply(json=out)


def board_labels(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = get_board(world, req.path_params["board_id"])
    limit = parse_int(req.get("limit"), "limit", default=50, low=0, high=1000)
    labels = [world.labels[label_id] for label_id in found.label_ids][:limit]
    return TrelloReply(
        json=[select_fields(label_json(label, found.id_organization), req.get("fields")) for label in labels]
    )


def board_members(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = get_board(world, req.path_params["board_id"])
    members = [world.members[member_id] for member_id in found.member_ids]
    if req.get("filter") in {"admins", "owners"}:
        members = [m for m in members if m.id == found.id_member_creator]
    return TrelloReply(
        json=[
            select_fields(member_json(m, full=True), req.get("fields"), MEMBER_SHORT_FIELDS) for m in members
        ]
    )


def board_custom_fields(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = get_board(world, req.path_params["board_id"])
    return TrelloReply(json=[custom_field_json(world.custom_fields[c]) for c in found.custom_field_ids])


def board_checklists(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    return TrelloReply(json=_board_checklists(world, get_board(world, req.path_params["board_id"])))


def board_actions(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = get_board(world, req.path_params["board_id"])
    selected = select_actions(world.board_actions[found.id], req.params)
    return TrelloReply(json=[_action_out(world, action, req) for action in selected])


def _action_out(world: TrelloWorld, action: Action, req: TrelloRequest) -> JsonObject:
    out = select_fields(action_json(world, action), req.get("fields"))
    if not req.flag("memberCreator", default=True):
        out.pop("memberCreator", None)
    if not req.flag("member", default=True):
        out.pop("member", None)
    return out


def list_(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    trello_list = _get_list(world, req.path_params["list_id"])
    return TrelloReply(json=select_fields(list_json(trello_list), req.get("fields")))


def list_cards(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    trello_list = _get_list(world, req.path_params["list_id"])
    board_obj = world.boards[trello_list.id_board]
    cards = [card for card in _board_cards(world, board_obj) if card.id_list == trello_list.id]
    chosen = select_cards(world, cards, card_filter=req.get("filter") or "open", params=req.params)
    return TrelloReply(json=[card_out(world, card, req.params) for card in chosen])


def card(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = get_card(world, req.path_params["card_id"])
    out = card_out(world, found, req.params)
    if req.flag("board"):
        out["board"] = select_fields(board_json(world, world.boards[found.id_board]), req.get("board_fields"))
    if req.flag("list"):
        out["list"] = list_json(world.lists[found.id_list])
    actions_filter = req.get("actions")
    if actions_filter:
        feed = world.card_actions.get(found.id, [])
        chosen = select_actions(feed, {"filter": actions_filter, "limit": req.get("actions_limit") or "50"})
        out["actions"] = [action_json(world, action) for action in chosen]
    return TrelloReply(json=out)


def card_actions(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = get_card(world, req.path_params["card_id"])
    feed = world.card_actions.get(found.id, [])
    selected = select_actions(feed, req.params, default_filter=CARD_ACTIONS_DEFAULT_FILTER)
    return TrelloReply(json=[_action_out(world, action, req) for action in selected])


def card_comment(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    found = get_card(world, req.path_params["card_id"])
    actor = req.member.id if req.member else None
    action = world.comment(found.id, req.get("text") or "", actor_id=actor)
    return TrelloReply(json=action_json(world, action))
