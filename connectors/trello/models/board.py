"""Boards and what one board call embeds: lists, labels, members and custom field definitions."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from connectors.trello.models.common import TrelloEntity, TrelloMember, TrelloModel, TrelloOrganization


class TrelloList(TrelloEntity):
    name: str = ""
    closed: bool = False
    pos: float | None = None
    id_board: str | None = None


class TrelloLabel(TrelloEntity):
    """`name` is empty for colour-only labels; `color` is null for colourless ones."""

    id_board: str | None = None
    name: str = ""
    color: str | None = None


class TrelloCustomFieldOptionValue(TrelloModel):
    text: str | None = None


class TrelloCustomFieldOption(TrelloEntity):
    """One choice of a `list`-type custom field; card items point at it through `idValue`."""

    value: TrelloCustomFieldOptionValue = Field(default_factory=TrelloCustomFieldOptionValue)
    color: str | None = None
    pos: float | None = None


class TrelloCustomField(TrelloEntity):
    """`type` is one of `checkbox`, `date`, `list`, `number`, `text`."""

    id_model: str | None = None
    name: str = ""
    type: str
    pos: float | None = None
    options: list[TrelloCustomFieldOption] = Field(default_factory=list)

    def option_text(self, option_id: str) -> str | None:
        return next((option.value.text for option in self.options if option.id == option_id), None)


class TrelloBoard(TrelloEntity):
    """Nested collections are empty unless the call asked for them (`get_board` asks for all)."""

    name: str = ""
    desc: str = ""
    closed: bool = False
    url: str | None = None
    short_url: str | None = None
    short_link: str | None = None
    id_organization: str | None = None
    organization: TrelloOrganization | None = None
    date_last_activity: AwareDatetime | None = None
    lists: list[TrelloList] = Field(default_factory=list)
    labels: list[TrelloLabel] = Field(default_factory=list)
    members: list[TrelloMember] = Field(default_factory=list)
    custom_fields: list[TrelloCustomField] = Field(default_factory=list)
