"""Trello webhook deliveries: payload, `X-Trello-Webhook` signature, and the HEAD check on creation."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

import httpx
import orjson

from sandbox.emit import OutgoingWebhook
from sandbox.trello.errors import TrelloWorldError
from sandbox.trello.models import Action, JsonObject, Webhook
from sandbox.trello.serialize import (
    action_json,
    board_json,
    card_json,
    list_json,
    member_json,
    organization_json,
    webhook_json,
)

if TYPE_CHECKING:
    from sandbox.trello.state import TrelloWorld

HEAD_CHECK_TIMEOUT_S = 5.0


def sign(app_secret: str, body: bytes, callback_url: str) -> str:
    """base64(HMAC-SHA1(app secret, raw body + callbackURL as registered)) [reference §6, TWH17, TSIG]."""
    digest = hmac.new(app_secret.encode(), body + callback_url.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def build_delivery(
    *, app_secret: str, webhook: Webhook, action: JsonObject, model: JsonObject
) -> OutgoingWebhook:
    body = orjson.dumps({"action": action, "model": model, "webhook": webhook_json(webhook)})
    headers = {
        "Content-Type": "application/json",
        "X-Trello-Webhook": sign(app_secret, body, webhook.callback_url),
    }
    return OutgoingWebhook(url=webhook.callback_url, headers=headers, body=body, provider="trello")


def head_status(url: str) -> int | None:
    """The status the callback answers to Trello's HEAD probe; None when it cannot be reached."""
    try:
        with httpx.Client(timeout=HEAD_CHECK_TIMEOUT_S, follow_redirects=False) as client:
            return client.head(url).status_code
    except httpx.HTTPError:
        return None


def refusal_text(url: str, status: int | None) -> str:
    # Real wording seen in github.com/Commit451/skyhook/issues/91; the unreachable case reuses it with
    # status 0 (Trello's exact text for a connection failure is not documented).
    return f"URL ({url}) did not return 200 status code, got {status or 0}"


def _model_json(world: TrelloWorld, model_id: str) -> JsonObject | None:
    if model_id in world.boards:
        return board_json(world, world.boards[model_id])
    if model_id in world.cards:
        return card_json(world, world.cards[model_id])
    if model_id in world.lists:
        return list_json(world.lists[model_id])
    if model_id in world.members:
        return member_json(world.members[model_id], full=False)
    if model_id in world.organizations:
        boards = [board.id for board in world.boards.values() if board.id_organization == model_id]
        return organization_json(world.organizations[model_id], boards)
    return None


def deliveries_for(world: TrelloWorld, action: Action) -> list[OutgoingWebhook]:
    """One signed delivery per active webhook watching a model the action touches.

    A board webhook sees every action on the board; card, list, member and organization webhooks see
    the actions that name them. `model` is the watched object as it is after the action [TWH17].
    """
    board = world.boards[action.id_board]
    models = {action.id_board, action.id_member_creator}
    for key in ("card", "list", "listBefore", "listAfter"):
        ref = action.data.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("id"), str):
            models.add(ref["id"])
    if board.id_organization:
        models.add(board.id_organization)
    if action.id_member:
        models.add(action.id_member)
    payload = action_json(world, action)
    out = []
    for webhook in world.webhooks.values():
        if not webhook.active or webhook.id_model not in models:
            continue
        model = _model_json(world, webhook.id_model)
        if model is not None:
            out.append(
                build_delivery(app_secret=world.app_secret, webhook=webhook, action=payload, model=model)
            )
    return out


def register_webhook(
    world: TrelloWorld, *, token: str, callback_url: str, id_model: str, description: str, active: bool
) -> Webhook:
    """Create a webhook once the HEAD probe answers 200; call without holding `world.lock`.

    The probe runs outside the lock because the callback may be served by this very process.
    """
    key = id_model.lower()
    with world.lock:
        known = (
            key in world.boards
            or key in world.cards
            or key in world.lists
            or key in world.members
            or key in world.organizations
        )
        if not known:
            raise TrelloWorldError(400, "invalid value for idModel")
        if any(
            hook.token == token and hook.callback_url == callback_url and hook.id_model == key
            for hook in world.webhooks.values()
        ):
            raise TrelloWorldError(400, "A webhook with that callback, model, and token already exists")
    status = world.verify_callback(callback_url)
    if status != 200:
        raise TrelloWorldError(400, refusal_text(callback_url, status))
    with world.lock:
        webhook = Webhook(world.new_id(), token, key, callback_url, description, active)
        world.webhooks[webhook.id] = webhook
        return webhook
