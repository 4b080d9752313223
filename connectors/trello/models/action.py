"""Actions: the change log of a board, read by polling and delivered by webhooks.

`data.old` holds only the previous values of the keys that changed; the new values sit on
`data.card` (TACT recorded payloads). Which keys were present is kept, so "was unset" (`old.due`
null) differs from "did not change" (no `due` key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import AwareDatetime, Field

from connectors.trello.models.common import TrelloEntity, TrelloMember, TrelloModel

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TrelloChange(Generic[T]):
    before: T | None
    after: T | None


class TrelloActionRef(TrelloEntity):
    """A board, list or card named inside an action; deleteCard carries no card `name`."""

    name: str | None = None
    short_link: str | None = None


class TrelloActionCard(TrelloActionRef):
    """The card's state after the action, for the keys the action touched."""

    id_short: int | None = None
    id_list: str | None = None
    id_board: str | None = None
    due: AwareDatetime | None = None
    start: AwareDatetime | None = None
    due_complete: bool | None = None
    closed: bool | None = None
    desc: str | None = None
    pos: float | None = None


class TrelloCommentRef(TrelloEntity):
    """`data.action` of updateComment/deleteComment: the commentCard action being edited."""

    text: str | None = None


class TrelloActionOld(TrelloModel):
    id_list: str | None = None
    due: AwareDatetime | None = None
    start: AwareDatetime | None = None
    due_complete: bool | None = None
    closed: bool | None = None
    name: str | None = None
    desc: str | None = None
    pos: float | None = None
    text: str | None = None


class TrelloActionData(TrelloModel):
    card: TrelloActionCard | None = None
    list: TrelloActionRef | None = None
    board: TrelloActionRef | None = None
    list_before: TrelloActionRef | None = None
    list_after: TrelloActionRef | None = None
    board_source: TrelloActionRef | None = None
    board_target: TrelloActionRef | None = None
    old: TrelloActionOld | None = None
    text: str | None = None
    action: TrelloCommentRef | None = None


class TrelloAction(TrelloEntity):
    type: str
    date: AwareDatetime
    id_member_creator: str | None = None
    member_creator: TrelloMember | None = None
    data: TrelloActionData = Field(default_factory=TrelloActionData)

    @property
    def changed_fields(self) -> frozenset[str]:
        """Wire names of the card keys this action changed (`idList`, `due`, `closed`, …)."""
        old = self.data.old
        if old is None:
            return frozenset()
        return frozenset(TrelloActionOld.model_fields[name].alias or name for name in old.model_fields_set)

    def list_change(self) -> TrelloChange[TrelloActionRef] | None:
        """A move between lists; names come from `listBefore`/`listAfter` when Trello sent them."""
        old = self.data.old
        if old is None or "id_list" not in old.model_fields_set:
            return None
        before = self.data.list_before or (TrelloActionRef(id=old.id_list) if old.id_list else None)
        card = self.data.card
        after = self.data.list_after or (
            TrelloActionRef(id=card.id_list) if card is not None and card.id_list else None
        )
        return TrelloChange(before=before, after=after)

    def due_change(self) -> TrelloChange[datetime] | None:
        if self.data.old is None or "due" not in self.data.old.model_fields_set:
            return None
        return TrelloChange(before=self.data.old.due, after=self.data.card.due if self.data.card else None)

    def start_change(self) -> TrelloChange[datetime] | None:
        if self.data.old is None or "start" not in self.data.old.model_fields_set:
            return None
        return TrelloChange(
            before=self.data.old.start, after=self.data.card.start if self.data.card else None
        )

    def closed_change(self) -> TrelloChange[bool] | None:
        if self.data.old is None or "closed" not in self.data.old.model_fields_set:
            return None
        return TrelloChange(
            before=self.data.old.closed, after=self.data.card.closed if self.data.card else None
        )

    def due_complete_change(self) -> TrelloChange[bool] | None:
        if self.data.old is None or "due_complete" not in self.data.old.model_fields_set:
            return None
        return TrelloChange(
            before=self.data.old.due_complete, after=self.data.card.due_complete if self.data.card else None
        )
