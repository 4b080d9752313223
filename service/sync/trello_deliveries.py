"""Applying a stored Trello webhook delivery, idempotently and in any order.

A delivery carries an action, not the card: a deleteCard marks the card deleted; any other card
action re-reads the card as it is now and records the changes the action describes (keyed by the
action id, so a duplicate adds nothing). Reading the current card makes the outcome independent of
the order deliveries arrive in. A card action that shows work (a comment, a checklist item, a
member, …) is also the card's activity, as the sync records it; a comment's text is not read (the
inbox no longer holds it). Board and list actions are acknowledged and left to the next
incremental sync, whose cursor webhooks never move.
"""

from __future__ import annotations

import httpx

from connectors.http import CallAccounting
from connectors.trello import parse_webhook
from connectors.trello.models import TrelloCardEvent, TrelloCommentEvent, TrelloEvent
from service.domain.enums import InboxStatus
from service.domain.work import Source
from service.logging import get_logger
from service.providers.trello import open_trello_client
from service.store.runtime import Store
from service.sync.summary import SyncSummary
from service.sync.trello import TrelloSync

log = get_logger(__name__)


def apply_trello_delivery(
    store: Store,
    *,
    source: Source,
    credentials: dict[str, str],
    body: bytes,
    transport: httpx.BaseTransport | None = None,
) -> InboxStatus:
    """Process one delivery body; a malformed one raises `InvalidPayloadError` (a dead letter)."""
    assert source.id is not None
    event = parse_webhook(body)
    if not isinstance(event, TrelloCardEvent | TrelloCommentEvent):
        return _ignored(event)
    summary = SyncSummary(source_id=source.id, kind="webhook")
    with open_trello_client(source, credentials, accounting=CallAccounting(), transport=transport) as client:
        sync = TrelloSync(store, source=source, client=client, summary=summary)
        boards = {board.lower() for board in sync.scope}
        named = {ref.id.lower() for ref in (event.board, event.action.data.board_target) if ref is not None}
        if event.card.id_board:
            named.add(event.card.id_board.lower())
        if not boards & named:
            return _ignored(event)
        sync.apply_actions([event.action])
    return InboxStatus.PROCESSED


def _ignored(event: TrelloEvent) -> InboxStatus:
    log.info("webhook.event.ignored", provider="trello", action_type=event.type)
    return InboxStatus.IGNORED
