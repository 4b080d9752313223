"""The fake's stored objects: compact slotted records, serialized to Trello JSON by `serialize`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Action `data` and `display` are Trello's own nested JSON, stored as sent so that replays are byte-true.
JsonObject = dict[str, object]


@dataclass(slots=True)
class Member:
    id: str
    username: str
    full_name: str
    initials: str
    avatar_hash: str
    email: str | None = None


@dataclass(slots=True)
class Organization:
    id: str
    name: str
    display_name: str
    desc: str = ""


@dataclass(slots=True)
class Board:
    id: str
    name: str
    short_link: str
    id_organization: str | None
    desc: str = ""
    closed: bool = False
    date_last_activity: datetime | None = None
    id_member_creator: str | None = None
    member_ids: list[str] = field(default_factory=list)
    list_ids: list[str] = field(default_factory=list)
    label_ids: list[str] = field(default_factory=list)
    custom_field_ids: list[str] = field(default_factory=list)
    # Insertion-ordered set of the board's card ids.
    card_ids: dict[str, None] = field(default_factory=dict)
    next_id_short: int = 1


@dataclass(slots=True)
class TrelloList:
    id: str
    id_board: str
    name: str
    pos: float
    closed: bool = False


@dataclass(slots=True)
class Label:
    id: str
    id_board: str
    name: str
    color: str | None
    uses: int = 0


@dataclass(slots=True)
class CustomFieldOption:
    id: str
    text: str
    color: str
    pos: float


@dataclass(slots=True)
class CustomField:
    id: str
    id_board: str
    name: str
    type: str  # "list" | "text" | "number" | "date" | "checkbox"
    pos: float
    options: list[CustomFieldOption] = field(default_factory=list)


@dataclass(slots=True)
class CustomFieldItem:
    id: str
    id_custom_field: str
    # Trello sends every scalar as a string: {"number": "8"}, {"checked": "true"}; list fields use id_value.
    value: dict[str, str] | None = None
    id_value: str | None = None


@dataclass(slots=True)
class CheckItem:
    id: str
    name: str
    pos: float
    complete: bool = False
    due: datetime | None = None
    id_member: str | None = None


@dataclass(slots=True)
class Checklist:
    id: str
    id_board: str
    id_card: str
    name: str
    pos: float
    items: list[CheckItem] = field(default_factory=list)


@dataclass(slots=True)
class Card:
    id: str
    id_board: str
    id_list: str
    id_short: int
    short_link: str
    name: str
    pos: float
    date_last_activity: datetime
    desc: str = ""
    closed: bool = False
    due: datetime | None = None
    due_complete: bool = False
    due_reminder: int | None = None
    start: datetime | None = None
    id_members: list[str] = field(default_factory=list)
    id_labels: list[str] = field(default_factory=list)
    id_checklists: list[str] = field(default_factory=list)
    custom_field_items: list[CustomFieldItem] = field(default_factory=list)
    comments: int = 0


@dataclass(slots=True)
class Action:
    id: str
    type: str
    date: datetime
    id_member_creator: str
    data: JsonObject
    display: JsonObject
    # The one board whose feed lists the action: a move between boards is two actions,
    # moveCardFromBoard on the source board and moveCardToBoard on the target.
    id_board: str
    id_card: str | None = None
    # The member an addMemberToCard/removeMemberFromCard action is about, serialized as `member`.
    id_member: str | None = None


@dataclass(slots=True)
class Webhook:
    id: str
    token: str
    id_model: str
    callback_url: str
    description: str = ""
    active: bool = True
    consecutive_failures: int = 0
    first_consecutive_fail_date: datetime | None = None
