"""Base model and the small shapes shared by every Trello wire model."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from connectors.trello.ids import created_at_from_id


class TrelloModel(BaseModel):
    """Parses only what pmbridge uses; anything else Trello sends is ignored."""

    model_config = ConfigDict(
        extra="ignore",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        protected_namespaces=(),
    )


class TrelloEntity(TrelloModel):
    id: str

    @property
    def created_at(self) -> datetime:
        """Trello records no creation date on most objects; the id embeds it."""
        return created_at_from_id(self.id)


class TrelloMember(TrelloEntity):
    username: str | None = None
    full_name: str | None = None
    initials: str | None = None
    avatar_url: str | None = None


class TrelloOrganization(TrelloEntity):
    name: str | None = None
    display_name: str | None = None
    url: str | None = None
