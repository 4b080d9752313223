"""Cards with their checklists and custom field items."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from connectors.trello.models.board import TrelloLabel
from connectors.trello.models.common import TrelloEntity, TrelloModel


class TrelloCheckItem(TrelloEntity):
    name: str = ""
    state: Literal["complete", "incomplete"] = "incomplete"
    pos: float | None = None
    due: AwareDatetime | None = None
    id_member: str | None = None
    id_checklist: str | None = None


class TrelloChecklist(TrelloEntity):
    name: str = ""
    id_card: str | None = None
    id_board: str | None = None
    pos: float | None = None
    check_items: list[TrelloCheckItem] = Field(default_factory=list)


class TrelloCustomFieldValue(TrelloModel):
    """Trello sends every value as a string: `{"number": "3"}`, `{"checked": "true"}` (TOAS example)."""

    text: str | None = None
    number: str | None = None
    date: str | None = None
    checked: str | None = None


class TrelloCustomFieldItem(TrelloEntity):
    """A card's value for one custom field: `value` for scalar types, `id_value` for `list` options."""

    id_custom_field: str
    id_model: str | None = None
    model_type: str | None = None
    value: TrelloCustomFieldValue | None = None
    id_value: str | None = None


class TrelloBadges(TrelloModel):
    check_items: int = 0
    check_items_checked: int = 0
    comments: int = 0


class TrelloCard(TrelloEntity):
    """`due` and `start` are full datetimes on the wire although TOAS declares `format: date`."""

    id_short: int | None = None
    name: str = ""
    desc: str = ""
    id_list: str
    id_board: str
    id_labels: list[str] = Field(default_factory=list)
    id_members: list[str] = Field(default_factory=list)
    id_checklists: list[str] = Field(default_factory=list)
    labels: list[TrelloLabel] = Field(default_factory=list)
    due: AwareDatetime | None = None
    start: AwareDatetime | None = None
    due_complete: bool = False
    closed: bool = False
    date_last_activity: AwareDatetime | None = None
    short_link: str | None = None
    short_url: str | None = None
    url: str | None = None
    pos: float | None = None
    badges: TrelloBadges = Field(default_factory=TrelloBadges)
    checklists: list[TrelloChecklist] = Field(default_factory=list)
    custom_field_items: list[TrelloCustomFieldItem] = Field(default_factory=list)

    @property
    def last_activity(self) -> datetime:
        return self.date_last_activity or self.created_at

    def custom_field_item(self, custom_field_id: str) -> TrelloCustomFieldItem | None:
        return next(
            (item for item in self.custom_field_items if item.id_custom_field == custom_field_id), None
        )
