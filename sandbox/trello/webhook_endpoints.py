"""Webhook handlers: create (after Trello's HEAD probe), read, list by token, delete."""

from __future__ import annotations

from sandbox.trello.errors import NOT_FOUND, TrelloWorldError
from sandbox.trello.models import Webhook
from sandbox.trello.serialize import webhook_json
from sandbox.trello.state import TrelloWorld
from sandbox.trello.transport import TrelloReply, TrelloRequest
from sandbox.trello.webhooks import register_webhook


def _owner_token(world: TrelloWorld, req: TrelloRequest) -> str:
    token = req.path_params.get("token") or req.token
    if token not in world.tokens:
        raise TrelloWorldError(401, "invalid token")
    return token


def _owned(world: TrelloWorld, req: TrelloRequest) -> Webhook:
    webhook = world.webhooks.get(req.path_params["webhook_id"].lower())
    if webhook is None:
        raise TrelloWorldError(404, NOT_FOUND)
    if webhook.token != _owner_token(world, req):
        # GET /1/webhooks/{id} must use the token that created the webhook [TOAS; api-docs#156].
        raise TrelloWorldError(401, "unauthorized token")
    return webhook


def create_webhook(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    """Runs outside the world lock: the HEAD probe may call back into this very server."""
    callback_url = req.get("callbackURL") or ""
    id_model = req.get("idModel") or ""
    if not callback_url.startswith(("http://", "https://")):
        raise TrelloWorldError(400, "invalid value for callbackURL")
    if not id_model:
        raise TrelloWorldError(400, "invalid value for idModel")
    description = req.get("description") or ""
    if len(description) > 16384:
        raise TrelloWorldError(400, "invalid value for description")
    webhook = register_webhook(
        world,
        token=_owner_token(world, req),
        callback_url=callback_url,
        id_model=id_model,
        description=description,
        active=req.flag("active", default=True),
    )
    return TrelloReply(json=webhook_json(webhook))


def token_webhooks(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    token = _owner_token(world, req)
    return TrelloReply(json=[webhook_json(hook) for hook in world.webhooks.values() if hook.token == token])


def get_webhook(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    return TrelloReply(json=webhook_json(_owned(world, req)))


def delete_webhook(world: TrelloWorld, req: TrelloRequest) -> TrelloReply:
    webhook = _owned(world, req)
    del world.webhooks[webhook.id]
    return TrelloReply(json={"_value": None})
