"""Registering, listing and deleting webhooks of the client's token.

On `POST /1/webhooks` Trello first sends `HEAD <callbackURL>` and creates nothing unless that answers
200 (TWH), so the receiving route must be deployed before `create_webhook` runs. Registering the same
(callback, model, token) again answers 400 "A webhook with that callback, model, and token already
exists" (github.com/18F/trello-webhook-server/pull/8); `ensure_webhook` avoids that by listing first.
"""

from __future__ import annotations

from pydantic import JsonValue, TypeAdapter

from connectors.http import NotFoundError
from connectors.trello.base import TrelloClientBase
from connectors.trello.models.webhook import TrelloWebhook

_WEBHOOK = TypeAdapter(TrelloWebhook)
_WEBHOOKS = TypeAdapter(list[TrelloWebhook])


class WebhooksApi(TrelloClientBase):
    def create_webhook(
        self, *, callback_url: str, id_model: str, description: str = "", active: bool = True
    ) -> TrelloWebhook:
        """`callback_url` is stored byte for byte and is part of every delivery's signature."""
        body: dict[str, JsonValue] = {
            "callbackURL": callback_url,
            "idModel": id_model,
            "description": description,
            "active": active,
        }
        return self._call(_WEBHOOK, "POST", "/1/webhooks", json=body, idempotent=False)

    def list_webhooks(self) -> list[TrelloWebhook]:
        """Webhooks of this client's token (the only listing Trello offers)."""
        return self._call(
            _WEBHOOKS, "GET", "/1/tokens/{token}/webhooks", path={"token": self.credentials.token}
        )

    def find_webhook(self, webhook_id: str) -> TrelloWebhook | None:
        try:
            return self._call(_WEBHOOK, "GET", "/1/webhooks/{webhook}", path={"webhook": webhook_id})
        except NotFoundError:
            return None

    def ensure_webhook(self, *, callback_url: str, id_model: str, description: str = "") -> TrelloWebhook:
        """The token's webhook for (`callback_url`, `id_model`), created if there is none."""
        for webhook in self.list_webhooks():
            if webhook.callback_url == callback_url and webhook.id_model == id_model:
                return webhook
        return self.create_webhook(callback_url=callback_url, id_model=id_model, description=description)

    def delete_webhook(self, webhook_id: str) -> bool:
        """False when the webhook was already gone (Trello also deletes it on a 410 from the callback)."""
        try:
            self.session.request("DELETE", "/1/webhooks/{webhook}", path={"webhook": webhook_id})
        except NotFoundError:
            return False
        return True
