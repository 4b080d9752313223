"""Trello connector: typed client, wire models, client-side pacing, webhook verification and parsing."""

from connectors.trello.base import TRELLO_API_BASE
from connectors.trello.batch import MAX_BATCH_URLS, TrelloBatchResult
from connectors.trello.boards import BoardFilter, CardFilter
from connectors.trello.client import TrelloClient
from connectors.trello.config import TrelloAuth, TrelloAuthForm, TrelloCredentials
from connectors.trello.events import (
    CARD_ACTION_TYPES,
    COMMENT_ACTION_TYPES,
    SUPPORTED_ACTION_TYPES,
    event_from_action,
)
from connectors.trello.ids import boundary_id_at, created_at_from_id, is_trello_id
from connectors.trello.ratelimit import (
    TRELLO_KEY_LIMIT,
    TRELLO_TOKEN_LIMIT,
    TRELLO_WINDOW_SECONDS,
    TrelloBoundLimiter,
    TrelloRateLimiter,
)
from connectors.trello.webhooks import (
    SIGNATURE_HEADER,
    SignatureCheck,
    check_signature,
    compute_signature,
    parse_webhook,
    remove_comment_text,
    verify_signature,
)

__all__ = [
    "CARD_ACTION_TYPES",
    "COMMENT_ACTION_TYPES",
    "MAX_BATCH_URLS",
    "SIGNATURE_HEADER",
    "SUPPORTED_ACTION_TYPES",
    "TRELLO_API_BASE",
    "TRELLO_KEY_LIMIT",
    "TRELLO_TOKEN_LIMIT",
    "TRELLO_WINDOW_SECONDS",
    "BoardFilter",
    "CardFilter",
    "SignatureCheck",
    "TrelloAuth",
    "TrelloAuthForm",
    "TrelloBatchResult",
    "TrelloBoundLimiter",
    "TrelloClient",
    "TrelloCredentials",
    "TrelloRateLimiter",
    "boundary_id_at",
    "check_signature",
    "compute_signature",
    "created_at_from_id",
    "event_from_action",
    "is_trello_id",
    "parse_webhook",
    "remove_comment_text",
    "verify_signature",
]
