"""Build Trello actions (`data` + `display`) exactly as the real service records them.

Shapes follow recorded deliveries: `data.old` holds only the changed keys' previous values and the new
values sit on `data.card` [reference §3; fiatjaf/trello-webhooks; aruturu24/starter-express-api].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox.trello.ids import iso
from sandbox.trello.models import (
    Action,
    Board,
    Card,
    CheckItem,
    Checklist,
    JsonObject,
    Label,
    Member,
    TrelloList,
)


def board_ref(board: Board) -> JsonObject:
    return {"id": board.id, "name": board.name, "shortLink": board.short_link}


def list_ref(trello_list: TrelloList) -> JsonObject:
    return {"id": trello_list.id, "name": trello_list.name}


def card_ref(card: Card, **extra: object) -> JsonObject:
    ref: JsonObject = dict(extra)
    ref.update({"id": card.id, "name": card.name, "idShort": card.id_short, "shortLink": card.short_link})
    return ref


def _card_entity(card: Card, extra: JsonObject | None = None) -> JsonObject:
    entity: JsonObject = {"type": "card", "id": card.id, "shortLink": card.short_link, "text": card.name}
    if extra:
        entity.update(extra)
    return entity


def _list_entity(trello_list: TrelloList) -> JsonObject:
    return {"type": "list", "id": trello_list.id, "text": trello_list.name}


def _member_entity(member: Member) -> JsonObject:
    return {"type": "member", "id": member.id, "username": member.username, "text": member.full_name}


def _display(key: str, actor: Member, entities: JsonObject) -> JsonObject:
    entities["memberCreator"] = _member_entity(actor)
    return {"translationKey": key, "entities": entities}


@dataclass(frozen=True, slots=True)
class On:
    """When, by whom, and on which board, list and card an action happens."""

    at: datetime
    actor: Member
    board: Board
    trello_list: TrelloList
    card: Card


def _action(
    kind: str,
    on: On,
    data: JsonObject,
    display: JsonObject,
    *,
    board: Board | None = None,
    member: Member | None = None,
) -> Action:
    board_id = (board or on.board).id
    return Action(
        "", kind, on.at, on.actor.id, data, display, board_id, on.card.id, member.id if member else None
    )


def create_card(on: On) -> Action:
    data: JsonObject = {
        "card": card_ref(on.card),
        "list": list_ref(on.trello_list),
        "board": board_ref(on.board),
    }
    entities: JsonObject = {"card": _card_entity(on.card), "list": _list_entity(on.trello_list)}
    return _action("createCard", on, data, _display("action_create_card", on.actor, entities))


def move_card(on: On, before: TrelloList, after: TrelloList) -> Action:
    card = on.card
    data: JsonObject = {
        "card": card_ref(card, idList=after.id),
        "old": {"idList": before.id},
        "board": board_ref(on.board),
        "listBefore": list_ref(before),
        "listAfter": list_ref(after),
    }
    entities: JsonObject = {
        "card": _card_entity(card, {"idList": after.id}),
        "listBefore": _list_entity(before),
        "listAfter": _list_entity(after),
    }
    return _action("updateCard", on, data, _display("action_move_card_from_list_to_list", on.actor, entities))


def _date_key(field: str, old: datetime | None, new: datetime | None) -> str:
    noun = "due_date" if field == "due" else "start_date"
    if old is None:
        return f"action_added_a_{noun}"
    if new is None:
        return f"action_removed_a_{noun}"
    return f"action_changed_a_{noun}"


def change_date(on: On, field: str, old: datetime | None, new: datetime | None) -> Action:
    """An updateCard of `due` or `start`."""
    data: JsonObject = {
        "card": card_ref(on.card, **{field: iso(new)}),
        "old": {field: iso(old)},
        "board": board_ref(on.board),
        "list": list_ref(on.trello_list),
    }
    entities: JsonObject = {"card": _card_entity(on.card, {field: iso(new)})}
    if new is not None:
        entities["date"] = {"type": "date", "date": iso(new)}
    return _action("updateCard", on, data, _display(_date_key(field, old, new), on.actor, entities))


def change_flag(on: On, field: str, new: bool) -> Action:
    """An updateCard of `closed` (archive / send back to board) or `dueComplete`."""
    data: JsonObject = {
        "card": card_ref(on.card, **{field: new}),
        "old": {field: not new},
        "board": board_ref(on.board),
        "list": list_ref(on.trello_list),
    }
    if field == "closed":
        key = "action_archived_card" if new else "action_sent_card_to_board"
    else:
        key = "action_marked_the_due_date_complete" if new else "action_marked_the_due_date_incomplete"
    entities: JsonObject = {"card": _card_entity(on.card, {field: new})}
    return _action("updateCard", on, data, _display(key, on.actor, entities))


def member_on_card(on: On, member: Member, *, added: bool) -> Action:
    data: JsonObject = {
        "board": board_ref(on.board),
        "card": card_ref(on.card),
        "idMember": member.id,
        "member": {"id": member.id, "name": member.full_name},
    }
    if added:
        key = "action_member_joined_card" if member.id == on.actor.id else "action_added_member_to_card"
    else:
        key = "action_member_left_card" if member.id == on.actor.id else "action_removed_member_from_card"
    entities: JsonObject = {"card": _card_entity(on.card), "member": _member_entity(member)}
    kind = "addMemberToCard" if added else "removeMemberFromCard"
    return _action(kind, on, data, _display(key, on.actor, entities), member=member)


def label_on_card(on: On, label: Label, *, added: bool) -> Action:
    data: JsonObject = {
        "board": board_ref(on.board),
        "card": card_ref(on.card),
        "label": {"id": label.id, "name": label.name, "color": label.color},
        "text": label.name,
        "value": label.color,
    }
    entities: JsonObject = {
        "card": _card_entity(on.card),
        "label": {"type": "label", "id": label.id, "color": label.color, "text": label.name},
    }
    key = "action_add_label_to_card" if added else "action_remove_label_from_card"
    kind = "addLabelToCard" if added else "removeLabelFromCard"
    return _action(kind, on, data, _display(key, on.actor, entities))


def comment_card(on: On, text: str) -> Action:
    data: JsonObject = {
        "text": text,
        "textData": {"emoji": {}},
        "card": card_ref(on.card),
        "board": board_ref(on.board),
        "list": list_ref(on.trello_list),
    }
    entities: JsonObject = {
        "contextOn": {"type": "translatable", "translationKey": "action_on", "hideIfContext": True},
        "card": _card_entity(on.card),
        "comment": {"type": "comment", "text": text},
    }
    return _action("commentCard", on, data, _display("action_comment_on_card", on.actor, entities))


def copy_card(on: On, source: Card) -> Action:
    """copyCard on the new card (`on.card`), naming the card it was copied from [TACT card-copy]."""
    data: JsonObject = {
        "card": card_ref(on.card),
        "cardSource": card_ref(source),
        "list": list_ref(on.trello_list),
        "board": board_ref(on.board),
    }
    entities: JsonObject = {
        "card": _card_entity(on.card),
        "cardSource": _card_entity(source),
        "list": _list_entity(on.trello_list),
    }
    return _action("copyCard", on, data, _display("action_copy_card", on.actor, entities))


def _checklist_ref(checklist: Checklist) -> JsonObject:
    return {"id": checklist.id, "name": checklist.name}


def _check_item_ref(item: CheckItem) -> JsonObject:
    return {
        "id": item.id,
        "name": item.name,
        "state": "complete" if item.complete else "incomplete",
        "textData": {"emoji": {}},
    }


def add_checklist(on: On, checklist: Checklist) -> Action:
    data: JsonObject = {
        "card": card_ref(on.card),
        "checklist": _checklist_ref(checklist),
        "board": board_ref(on.board),
    }
    entities: JsonObject = {
        "card": _card_entity(on.card),
        "checklist": {"type": "checklist", "id": checklist.id, "text": checklist.name},
    }
    return _action(
        "addChecklistToCard", on, data, _display("action_add_checklist_to_card", on.actor, entities)
    )


def create_check_item(on: On, checklist: Checklist, item: CheckItem) -> Action:
    data: JsonObject = {
        "card": card_ref(on.card),
        "checklist": _checklist_ref(checklist),
        "checkItem": _check_item_ref(item),
        "board": board_ref(on.board),
    }
    entities: JsonObject = {
        "card": _card_entity(on.card),
        "checkitem": {"type": "checkitem", "id": item.id, "text": item.name},
        "checklist": {"type": "checklist", "id": checklist.id, "text": checklist.name},
    }
    return _action(
        "createCheckItem", on, data, _display("action_add_checkitem_to_checklist", on.actor, entities)
    )


def check_item_state(on: On, checklist: Checklist, item: CheckItem) -> Action:
    """updateCheckItemStateOnCard: `item` as it is after the change [TACT checkitem-complete]."""
    data: JsonObject = {
        "card": card_ref(on.card),
        "checklist": _checklist_ref(checklist),
        "checkItem": _check_item_ref(item),
        "board": board_ref(on.board),
    }
    entities: JsonObject = {
        "card": _card_entity(on.card),
        "checkitem": {"type": "checkitem", "id": item.id, "state": data["checkItem"], "text": item.name},
    }
    key = "action_completed_checkitem" if item.complete else "action_marked_checkitem_incomplete"
    return _action("updateCheckItemStateOnCard", on, data, _display(key, on.actor, entities))


def delete_card(on: On) -> Action:
    # deleteCard carries only id and idShort: the name is gone with the card [TACT card-delete].
    data: JsonObject = {
        "card": {"id": on.card.id, "idShort": on.card.id_short},
        "list": list_ref(on.trello_list),
        "board": board_ref(on.board),
    }
    entities: JsonObject = {
        "idCard": {"type": "text", "text": str(on.card.id_short)},
        "list": _list_entity(on.trello_list),
    }
    return _action("deleteCard", on, data, _display("action_delete_card", on.actor, entities))


def move_between_boards(on: On, target: Board, target_list: TrelloList) -> tuple[Action, Action]:
    """moveCardFromBoard on the source board (`on.board`), moveCardToBoard on the target [TACT card-move*]."""
    source, card = on.board, on.card
    from_data: JsonObject = {
        "board": board_ref(source),
        "boardTarget": {"id": target.id, "name": target.name},
        "card": {"id": card.id, "name": card.name},
        "list": list_ref(on.trello_list),
    }
    from_entities: JsonObject = {
        "card": _card_entity(card),
        "board": {"type": "board", "id": target.id, "text": target.name, "shortLink": target.short_link},
    }
    to_data: JsonObject = {
        "board": board_ref(target),
        "boardSource": {"id": source.id, "name": source.name},
        "card": card_ref(card),
        "list": list_ref(target_list),
    }
    to_entities: JsonObject = {
        "card": _card_entity(card),
        "board": {"type": "board", "id": source.id, "text": source.name, "shortLink": source.short_link},
    }
    moved_from = _action(
        "moveCardFromBoard", on, from_data, _display("action_move_card_to_board", on.actor, from_entities)
    )
    moved_to = _action(
        "moveCardToBoard",
        on,
        to_data,
        _display("action_move_card_from_board", on.actor, to_entities),
        board=target,
    )
    return moved_from, moved_to
