"""Typed events from actions, the same whether an action was polled or delivered by a webhook."""

from __future__ import annotations

from typing import get_args

from connectors.http import InvalidPayloadError
from connectors.trello.models.action import TrelloAction
from connectors.trello.models.webhook import (
    CardActionType,
    CommentActionType,
    TrelloCardEvent,
    TrelloCommentEvent,
    TrelloEvent,
    TrelloEventContext,
    TrelloUnsupportedEvent,
)

CARD_ACTION_TYPES: frozenset[str] = frozenset(get_args(CardActionType))
COMMENT_ACTION_TYPES: frozenset[str] = frozenset(get_args(CommentActionType))
SUPPORTED_ACTION_TYPES = CARD_ACTION_TYPES | COMMENT_ACTION_TYPES


def event_from_action(action: TrelloAction, *, context: TrelloEventContext | None = None) -> TrelloEvent:
    """Classify an action; a supported type missing what it must carry raises `InvalidPayloadError`."""
    context = context or TrelloEventContext()
    card = action.data.card
    if action.type not in SUPPORTED_ACTION_TYPES:
        return TrelloUnsupportedEvent(
            type=action.type, action_id=action.id, date=action.date, context=context
        )
    if card is None:
        raise InvalidPayloadError(f"{action.type} action without data.card")
    if action.type in CARD_ACTION_TYPES:
        return TrelloCardEvent.model_validate(
            {
                "type": action.type,
                "action": action,
                "card": card,
                "board": action.data.board,
                "context": context,
            }
        )
    comment_id, text = _comment_identity(action)
    return TrelloCommentEvent.model_validate(
        {
            "type": action.type,
            "action": action,
            "card": card,
            "comment_id": comment_id,
            "text": text,
            "board": action.data.board,
            "context": context,
        }
    )


def _comment_identity(action: TrelloAction) -> tuple[str, str | None]:
    """commentCard is itself the comment; updateComment/deleteComment point at it in `data.action`."""
    if action.type == "commentCard":
        return action.id, action.data.text
    target = action.data.action
    if target is None:
        raise InvalidPayloadError(f"{action.type} action without data.action")
    return target.id, target.text if action.type == "updateComment" else None
