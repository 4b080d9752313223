"""Trello's JSON shapes for the stored objects, with Trello's `fields=` selection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.trello.ids import iso, slugify
from sandbox.trello.models import (
    Action,
    Board,
    Card,
    Checklist,
    CustomField,
    JsonObject,
    Label,
    Member,
    Organization,
    TrelloList,
    Webhook,
)

if TYPE_CHECKING:
    from sandbox.trello.state import TrelloWorld

# Defaults when `fields` is absent [TOAS GET /boards/{id}; GET /boards/{id}/members; GET /boards/{id}/labels].
BOARD_DEFAULT_FIELDS = (
    "name",
    "desc",
    "descData",
    "closed",
    "idOrganization",
    "pinned",
    "url",
    "shortUrl",
    "prefs",
    "labelNames",
)
MEMBER_SHORT_FIELDS = ("fullName", "username")
_LABEL_COLORS = ("green", "yellow", "orange", "red", "purple", "blue", "sky", "lime", "pink", "black")
_BOARD_PREFS: JsonObject = {
    "permissionLevel": "org",
    "hideVotes": False,
    "voting": "disabled",
    "comments": "members",
    "invitations": "members",
    "selfJoin": True,
    "cardCovers": True,
    "cardCounts": False,
    "isTemplate": False,
    "cardAging": "regular",
    "calendarFeedEnabled": False,
    "background": "blue",
    "backgroundColor": "#0079BF",
    "backgroundImage": None,
    "backgroundTile": False,
    "backgroundBrightness": "dark",
    "canBePublic": True,
    "canBeEnterprise": True,
    "canBeOrg": True,
    "canBePrivate": True,
    "canInvite": True,
}
_EMPTY_DESC_DATA: JsonObject = {"emoji": {}}
_COMMENT_LIMITS: JsonObject = {
    "reactions": {
        "perAction": {"status": "ok", "disableAt": 900, "warnAt": 880},
        "uniquePerAction": {"status": "ok", "disableAt": 17, "warnAt": 16},
    }
}


def select_fields(full: JsonObject, fields: str | None, default: tuple[str, ...] | None = None) -> JsonObject:
    """Keep the requested keys; `id` always stays, as Trello always returns it."""
    if fields is None:
        if default is None:
            return full
        wanted: tuple[str, ...] | list[str] = default
    elif fields == "all":
        return full
    else:
        wanted = [name.strip() for name in fields.split(",") if name.strip()]
    out: JsonObject = {"id": full["id"]}
    for name in wanted:
        if name in full:
            out[name] = full[name]
    return out


def member_json(member: Member, *, full: bool) -> JsonObject:
    short: JsonObject = {
        "id": member.id,
        "activityBlocked": False,
        "avatarHash": member.avatar_hash,
        "avatarUrl": f"https://trello-members.s3.amazonaws.com/{member.id}/{member.avatar_hash}",
        "fullName": member.full_name,
        "idMemberReferrer": None,
        "initials": member.initials,
        "nonPublic": {},
        "nonPublicAvailable": True,
        "username": member.username,
    }
    if not full:
        return short
    short.update(
        {
            "bio": "",
            "bioData": None,
            "confirmed": True,
            "idEnterprise": None,
            "memberType": "normal",
            "status": "disconnected",
            "url": f"https://trello.com/{member.username}",
            "email": member.email,
            "idPremOrgsAdmin": [],
            "products": [],
        }
    )
    return short


def organization_json(org: Organization, board_ids: list[str]) -> JsonObject:
    return {
        "id": org.id,
        "name": org.name,
        "displayName": org.display_name,
        "desc": org.desc,
        "descData": None,
        "url": f"https://trello.com/w/{org.name}",
        "website": None,
        "teamType": "operations",
        "logoHash": None,
        "logoUrl": None,
        "offering": "trello.business_class",
        "products": [110],
        "powerUps": [],
        "idBoards": board_ids,
        "memberships": [],
    }


def board_json(world: TrelloWorld, board: Board) -> JsonObject:
    slug = slugify(board.name)
    return {
        "id": board.id,
        "name": board.name,
        "desc": board.desc,
        "descData": None,
        "closed": board.closed,
        "dateClosed": None,
        "idOrganization": board.id_organization,
        "idEnterprise": None,
        "pinned": False,
        "starred": False,
        "url": f"https://trello.com/b/{board.short_link}/{slug}",
        "shortUrl": f"https://trello.com/b/{board.short_link}",
        "shortLink": board.short_link,
        "prefs": _BOARD_PREFS,
        "labelNames": {color: world.label_name_for_color(board, color) for color in _LABEL_COLORS},
        "dateLastActivity": iso(board.date_last_activity),
        "dateLastView": iso(board.date_last_activity),
        "idMemberCreator": board.id_member_creator,
        "idTags": [],
        "subscribed": False,
        "creationMethod": None,
        "memberships": [
            {
                "idMember": member_id,
                "memberType": "admin" if member_id == board.id_member_creator else "normal",
                "unconfirmed": False,
                "deactivated": False,
                "id": f"{board.id[:16]}{index:08x}",
            }
            for index, member_id in enumerate(board.member_ids)
        ],
        "nodeId": f"ari:cloud:trello::board/workspace/{board.id_organization}/{board.id}",
    }


def list_json(trello_list: TrelloList) -> JsonObject:
    return {
        "id": trello_list.id,
        "name": trello_list.name,
        "closed": trello_list.closed,
        "color": None,
        "idBoard": trello_list.id_board,
        "pos": trello_list.pos,
        "subscribed": False,
        "softLimit": None,
        "type": None,
        "datasource": {"filter": False},
    }


def label_json(label: Label, id_organization: str | None) -> JsonObject:
    return {
        "id": label.id,
        "idBoard": label.id_board,
        "idOrganization": id_organization,
        "name": label.name,
        "nodeId": f"ari:cloud:trello::label/workspace/{id_organization}/{label.id}",
        "color": label.color,
        "uses": label.uses,
    }


def custom_field_json(custom_field: CustomField) -> JsonObject:
    out: JsonObject = {
        "id": custom_field.id,
        "idModel": custom_field.id_board,
        "modelType": "board",
        "fieldGroup": custom_field.id,
        "display": {"cardFront": True},
        "name": custom_field.name,
        "pos": custom_field.pos,
        "type": custom_field.type,
        "isSuggestedField": False,
    }
    if custom_field.type == "list":
        out["options"] = [
            {
                "id": option.id,
                "idCustomField": custom_field.id,
                "value": {"text": option.text},
                "color": option.color,
                "pos": option.pos,
            }
            for option in custom_field.options
        ]
    return out


def custom_field_items_json(card: Card) -> list[JsonObject]:
    items: list[JsonObject] = []
    for item in card.custom_field_items:
        entry: JsonObject = {"id": item.id}
        if item.id_value is not None:
            entry["idValue"] = item.id_value
        else:
            entry["value"] = item.value
        entry.update({"idCustomField": item.id_custom_field, "idModel": card.id, "modelType": "card"})
        items.append(entry)
    return items


def checklist_json(checklist: Checklist) -> JsonObject:
    return {
        "id": checklist.id,
        "name": checklist.name,
        "idBoard": checklist.id_board,
        "idCard": checklist.id_card,
        "pos": checklist.pos,
        "checkItems": [
            {
                "id": item.id,
                "name": item.name,
                "nameData": {"emoji": {}},
                "pos": item.pos,
                "state": "complete" if item.complete else "incomplete",
                "due": iso(item.due),
                "dueReminder": None,
                "idMember": item.id_member,
                "idChecklist": checklist.id,
            }
            for item in checklist.items
        ],
    }


def card_json(world: TrelloWorld, card: Card) -> JsonObject:
    board = world.boards[card.id_board]
    checklists = [world.checklists[checklist_id] for checklist_id in card.id_checklists]
    check_items = sum(len(checklist.items) for checklist in checklists)
    checked = sum(item.complete for checklist in checklists for item in checklist.items)
    due, start = iso(card.due), iso(card.start)
    return {
        "id": card.id,
        "badges": {
            "attachmentsByType": {"trello": {"board": 0, "card": 0}},
            "externalSource": None,
            "location": False,
            "votes": 0,
            "viewingMemberVoted": False,
            "subscribed": False,
            "fogbugz": "",
            "checkItems": check_items,
            "checkItemsChecked": checked,
            "checkItemsEarliestDue": None,
            "comments": card.comments,
            "attachments": 0,
            "description": bool(card.desc),
            "due": due,
            "dueComplete": card.due_complete,
            "lastUpdatedByAi": False,
            "start": start,
        },
        "checkItemStates": [],
        "closed": card.closed,
        "dueComplete": card.due_complete,
        "dateLastActivity": iso(card.date_last_activity),
        "desc": card.desc,
        "descData": _EMPTY_DESC_DATA,
        "due": due,
        "dueReminder": card.due_reminder,
        "email": None,
        "idBoard": card.id_board,
        "idChecklists": list(card.id_checklists),
        "idList": card.id_list,
        "idMembers": list(card.id_members),
        "idMembersVoted": [],
        "idShort": card.id_short,
        "idAttachmentCover": None,
        "labels": [label_json(world.labels[label_id], board.id_organization) for label_id in card.id_labels],
        "idLabels": list(card.id_labels),
        "manualCoverAttachment": False,
        "name": card.name,
        "pinned": False,
        "pos": card.pos,
        "shortLink": card.short_link,
        "shortUrl": f"https://trello.com/c/{card.short_link}",
        "start": start,
        "subscribed": False,
        "url": f"https://trello.com/c/{card.short_link}/{card.id_short}-{slugify(card.name)}",
        "cover": {
            "idAttachment": None,
            "color": None,
            "idUploadedBackground": None,
            "size": "normal",
            "brightness": "dark",
            "idPlugin": None,
        },
        "isTemplate": False,
        "cardRole": None,
        "mirrorSourceId": None,
        "nodeId": f"ari:cloud:trello::card/workspace/{board.id_organization}/{card.id}",
    }


def action_json(world: TrelloWorld, action: Action) -> JsonObject:
    out: JsonObject = {
        "id": action.id,
        "idMemberCreator": action.id_member_creator,
        "data": action.data,
        "appCreator": None,
        "type": action.type,
        "date": iso(action.date),
        "limits": _COMMENT_LIMITS if action.type == "commentCard" else None,
        "display": action.display,
        "memberCreator": member_json(world.members[action.id_member_creator], full=False),
    }
    if action.id_member is not None and action.id_member in world.members:
        out["member"] = member_json(world.members[action.id_member], full=False)
    return out


def webhook_json(webhook: Webhook) -> JsonObject:
    return {
        "id": webhook.id,
        "description": webhook.description,
        "idModel": webhook.id_model,
        "callbackURL": webhook.callback_url,
        "active": webhook.active,
        "consecutiveFailures": webhook.consecutive_failures,
        "firstConsecutiveFailDate": iso(webhook.first_consecutive_fail_date),
    }
