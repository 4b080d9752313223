from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from connectors.http import PermanentError, TransientError
from connectors.trello import TrelloClient

CALLBACK = "https://pmbridge.example/webhooks/trello/src-1?v=1"
BOARD_ID = "60a1b2c3d4e5f60718293a4b"
HOOK: dict[str, Any] = {
    "id": "65a7d0000000000000000001",
    "description": "pmbridge",
    "idModel": BOARD_ID,
    "callbackURL": CALLBACK,
    "active": True,
    "consecutiveFailures": 0,
    "firstConsecutiveFailDate": None,
}


def test_create_webhook_posts_callback_model_and_description(
    client: TrelloClient, router: respx.Router
) -> None:
    route = router.post("/1/webhooks").mock(return_value=httpx.Response(200, json=HOOK))

    webhook = client.create_webhook(callback_url=CALLBACK, id_model=BOARD_ID, description="pmbridge")

    assert json.loads(route.calls.last.request.content) == {
        "callbackURL": CALLBACK,
        "idModel": BOARD_ID,
        "description": "pmbridge",
        "active": True,
    }
    assert (webhook.id, webhook.callback_url, webhook.active) == (HOOK["id"], CALLBACK, True)


def test_create_webhook_callback_failing_head_check_raises_permanent(
    client: TrelloClient, router: respx.Router
) -> None:
    refusal = f"URL ({CALLBACK}) did not return 200 status code, got 404"
    route = router.post("/1/webhooks").mock(
        return_value=httpx.Response(400, text=refusal, headers={"content-type": "text/plain; charset=utf-8"})
    )

    with pytest.raises(PermanentError, match="did not return 200"):
        client.create_webhook(callback_url=CALLBACK, id_model=BOARD_ID)

    assert route.call_count == 1


def test_create_webhook_server_error_is_sent_once(client: TrelloClient, router: respx.Router) -> None:
    route = router.post("/1/webhooks").mock(return_value=httpx.Response(503))

    with pytest.raises(TransientError):
        client.create_webhook(callback_url=CALLBACK, id_model=BOARD_ID)

    assert route.call_count == 1


def test_list_webhooks_reads_the_tokens_webhooks_and_accounts_by_template(
    client: TrelloClient, router: respx.Router
) -> None:
    token = client.credentials.token
    router.get(f"/1/tokens/{token}/webhooks").mock(return_value=httpx.Response(200, json=[HOOK]))

    webhooks = client.list_webhooks()

    assert [webhook.id_model for webhook in webhooks] == [BOARD_ID]
    assert list(client.accounting.snapshot()["by_endpoint"]) == ["GET /1/tokens/{token}/webhooks"]


def test_delete_webhook_existing_returns_true(client: TrelloClient, router: respx.Router) -> None:
    route = router.delete(f"/1/webhooks/{HOOK['id']}").mock(
        return_value=httpx.Response(200, json={"_value": None})
    )

    assert client.delete_webhook(HOOK["id"]) is True
    assert route.call_count == 1


def test_delete_webhook_already_gone_returns_false(client: TrelloClient, router: respx.Router) -> None:
    router.delete(f"/1/webhooks/{HOOK['id']}").mock(
        return_value=httpx.Response(404, text="model not found", headers={"content-type": "text/plain"})
    )

    assert client.delete_webhook(HOOK["id"]) is False


def test_find_webhook_missing_returns_none(client: TrelloClient, router: respx.Router) -> None:
    router.get(f"/1/webhooks/{HOOK['id']}").mock(return_value=httpx.Response(404))

    assert client.find_webhook(HOOK["id"]) is None


def test_ensure_webhook_existing_registration_is_reused(client: TrelloClient, router: respx.Router) -> None:
    router.get(f"/1/tokens/{client.credentials.token}/webhooks").mock(
        return_value=httpx.Response(200, json=[HOOK])
    )
    create = router.post("/1/webhooks").mock(return_value=httpx.Response(200, json=HOOK))

    webhook = client.ensure_webhook(callback_url=CALLBACK, id_model=BOARD_ID)

    assert webhook.id == HOOK["id"]
    assert create.call_count == 0


def test_ensure_webhook_other_callback_creates_one(client: TrelloClient, router: respx.Router) -> None:
    other = {**HOOK, "callbackURL": CALLBACK + "&old=1"}
    router.get(f"/1/tokens/{client.credentials.token}/webhooks").mock(
        return_value=httpx.Response(200, json=[other])
    )
    create = router.post("/1/webhooks").mock(return_value=httpx.Response(200, json=HOOK))

    client.ensure_webhook(callback_url=CALLBACK, id_model=BOARD_ID)

    assert create.call_count == 1
