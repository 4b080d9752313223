"""Webhook objects and the typed events parsed from actions (webhook deliveries or polled actions)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from connectors.trello.models.action import TrelloAction, TrelloActionCard, TrelloActionRef
from connectors.trello.models.common import TrelloEntity, TrelloModel

CardActionType = Literal[
    "createCard",
    "copyCard",
    "convertToCardFromCheckItem",
    "emailCard",
    "updateCard",
    "deleteCard",
    "moveCardToBoard",
    "moveCardFromBoard",
    "addLabelToCard",
    "removeLabelFromCard",
    "addMemberToCard",
    "removeMemberFromCard",
    "addChecklistToCard",
    "removeChecklistFromCard",
    "createCheckItem",
    "updateCheckItem",
    "deleteCheckItem",
    "updateCheckItemStateOnCard",
    "addAttachmentToCard",
    "deleteAttachmentFromCard",
    "updateCustomFieldItem",
]
CommentActionType = Literal["commentCard", "updateComment", "deleteComment"]


class TrelloWebhook(TrelloEntity):
    description: str = ""
    id_model: str
    callback_url: str = Field(alias="callbackURL")
    active: bool = True
    consecutive_failures: int = 0
    first_consecutive_fail_date: AwareDatetime | None = None


class TrelloWebhookModel(TrelloEntity):
    """The object the webhook watches (a board, for pmbridge), as sent in the delivery's `model`."""

    name: str | None = None


class TrelloEventContext(TrelloModel):
    """Where the action came from: the watched model and the webhook (both absent when polled)."""

    model: TrelloWebhookModel | None = None
    webhook: TrelloWebhook | None = None


class TrelloCardEvent(TrelloModel):
    """An action that created, changed, moved or deleted a card; `action` keeps the full data."""

    type: CardActionType
    action: TrelloAction
    card: TrelloActionCard
    board: TrelloActionRef | None = None
    context: TrelloEventContext = Field(default_factory=TrelloEventContext)


class TrelloCommentEvent(TrelloModel):
    """`comment_id` is the commentCard action's id (the comment's identity in Trello); `text` is the
    new text, None for deleteComment and where it was left out (pmbridge's inbox keeps none)."""

    type: CommentActionType
    action: TrelloAction
    card: TrelloActionCard
    comment_id: str
    text: str | None = None
    board: TrelloActionRef | None = None
    context: TrelloEventContext = Field(default_factory=TrelloEventContext)


class TrelloUnsupportedEvent(TrelloModel):
    """Any other action type (board, list, attachment, …): acknowledged, not processed."""

    type: str | None = None
    action_id: str | None = None
    date: AwareDatetime | None = None
    context: TrelloEventContext = Field(default_factory=TrelloEventContext)


TrelloEvent = TrelloCardEvent | TrelloCommentEvent | TrelloUnsupportedEvent
