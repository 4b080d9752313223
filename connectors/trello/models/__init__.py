"""Trello wire models: parse what pmbridge uses, ignore the rest."""

from connectors.trello.models.action import (
    TrelloAction,
    TrelloActionCard,
    TrelloActionData,
    TrelloActionOld,
    TrelloActionRef,
    TrelloChange,
    TrelloCommentRef,
)
from connectors.trello.models.board import (
    TrelloBoard,
    TrelloCustomField,
    TrelloCustomFieldOption,
    TrelloCustomFieldOptionValue,
    TrelloLabel,
    TrelloList,
)
from connectors.trello.models.card import (
    TrelloBadges,
    TrelloCard,
    TrelloCheckItem,
    TrelloChecklist,
    TrelloCustomFieldItem,
    TrelloCustomFieldValue,
)
from connectors.trello.models.common import TrelloEntity, TrelloMember, TrelloModel, TrelloOrganization
from connectors.trello.models.webhook import (
    CardActionType,
    CommentActionType,
    TrelloCardEvent,
    TrelloCommentEvent,
    TrelloEvent,
    TrelloEventContext,
    TrelloUnsupportedEvent,
    TrelloWebhook,
    TrelloWebhookModel,
)

__all__ = [
    "CardActionType",
    "CommentActionType",
    "TrelloAction",
    "TrelloActionCard",
    "TrelloActionData",
    "TrelloActionOld",
    "TrelloActionRef",
    "TrelloBadges",
    "TrelloBoard",
    "TrelloCard",
    "TrelloCardEvent",
    "TrelloChange",
    "TrelloCheckItem",
    "TrelloChecklist",
    "TrelloCommentEvent",
    "TrelloCommentRef",
    "TrelloCustomField",
    "TrelloCustomFieldItem",
    "TrelloCustomFieldOption",
    "TrelloCustomFieldOptionValue",
    "TrelloCustomFieldValue",
    "TrelloEntity",
    "TrelloEvent",
    "TrelloEventContext",
    "TrelloLabel",
    "TrelloList",
    "TrelloMember",
    "TrelloModel",
    "TrelloOrganization",
    "TrelloUnsupportedEvent",
    "TrelloWebhook",
    "TrelloWebhookModel",
]
