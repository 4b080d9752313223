from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol

import httpx
import orjson

from sandbox.emit import CollectingSink
from sandbox.trello.state import TrelloWorld

CONTROL = "/_sandbox/trello"


class ReceiverLike(Protocol):
    head_status: int
    base_url: str


def _create(client: httpx.Client, auth: dict[str, str], callback: str, model: str) -> httpx.Response:
    return client.post("/1/webhooks", params=auth, json={"callbackURL": callback, "idModel": model})


def _board(world: TrelloWorld) -> str:
    return next(iter(world.boards))


def test_webhooks_create_after_head_200_returns_the_webhook(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str], receiver: ReceiverLike
) -> None:
    callback = receiver.base_url + "/hooks/trello?source=1"
    response = _create(client, auth, callback, _board(world))
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("idModel", "callbackURL", "active", "consecutiveFailures")} == {
        "idModel": _board(world),
        "callbackURL": callback,
        "active": True,
        "consecutiveFailures": 0,
    }


def test_webhooks_create_refused_when_head_is_not_200(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str], receiver: ReceiverLike
) -> None:
    receiver.head_status = 404
    callback = receiver.base_url + "/hooks/trello"
    response = _create(client, auth, callback, _board(world))
    assert response.status_code == 400
    assert response.text == f"URL ({callback}) did not return 200 status code, got 404"
    assert world.webhooks == {}


def test_webhooks_create_refused_when_callback_is_unreachable(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.verify_callback = lambda url: None
    response = _create(client, auth, "http://127.0.0.1:9/hooks", _board(world))
    assert response.status_code == 400
    assert response.text.startswith("URL (http://127.0.0.1:9/hooks) did not return 200")


def test_webhooks_duplicate_registration_answers_400(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.verify_callback = lambda url: 200
    _create(client, auth, "https://hooks.example/trello", _board(world))
    response = _create(client, auth, "https://hooks.example/trello", _board(world))
    assert response.status_code == 400
    assert response.text == "A webhook with that callback, model, and token already exists"


def test_webhooks_token_listing_and_delete(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.verify_callback = lambda url: 200
    hook_id = _create(client, auth, "https://hooks.example/a", _board(world)).json()["id"]
    listed = client.get(f"/1/tokens/{auth['token']}/webhooks", params={"key": auth["key"]}).json()
    deleted = client.delete(f"/1/webhooks/{hook_id}", params=auth)
    assert [hook["id"] for hook in listed] == [hook_id]
    assert (deleted.status_code, deleted.json()) == (200, {"_value": None})
    assert client.get(f"/1/webhooks/{hook_id}", params=auth).status_code == 404


def test_webhooks_form_post_with_token_in_path_is_accepted(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.verify_callback = lambda url: 200
    form = {"callbackURL": "https://hooks.example/b", "idModel": _board(world), "key": auth["key"]}
    response = client.post(f"/1/tokens/{auth['token']}/webhooks/", data=form)
    assert response.status_code == 200


def test_webhooks_another_tokens_webhook_answers_401(
    world: TrelloWorld, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.verify_callback = lambda url: 200
    hook_id = _create(client, auth, "https://hooks.example/c", _board(world)).json()["id"]
    world.add_token("ATTAsecond")
    response = client.get(f"/1/webhooks/{hook_id}", params={"key": auth["key"], "token": "ATTAsecond"})
    assert (response.status_code, response.text) == (401, "unauthorized token")


def test_webhooks_delivery_signature_matches_independent_hmac(
    world: TrelloWorld, sink: CollectingSink, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.verify_callback = lambda url: 200
    callback = "https://hooks.example/trello/?source=42"
    _create(client, auth, callback, _board(world))
    card_id = next(iter(world.boards[_board(world)].card_ids))
    client.post(f"{CONTROL}/cards/{card_id}/comments", json={"text": "signed"})
    (delivery,) = sink.deliveries
    expected = base64.b64encode(
        hmac.new(world.app_secret.encode(), delivery.body + callback.encode(), hashlib.sha1).digest()
    ).decode()
    assert delivery.url == callback
    assert delivery.headers["X-Trello-Webhook"] == expected


def test_webhooks_delivery_carries_action_model_and_webhook(
    world: TrelloWorld, sink: CollectingSink, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.verify_callback = lambda url: 200
    hook = _create(client, auth, "https://hooks.example/d", _board(world)).json()
    card_id = next(iter(world.boards[_board(world)].card_ids))
    client.post(f"{CONTROL}/cards/{card_id}/due", json={"due": None})
    payload = orjson.loads(sink.deliveries[0].body)
    assert set(payload) == {"action", "model", "webhook"}
    assert payload["action"]["type"] == "updateCard"
    assert payload["model"]["id"] == _board(world)
    assert payload["webhook"]["id"] == hook["id"]


def test_webhooks_card_webhook_ignores_other_cards(
    world: TrelloWorld, sink: CollectingSink, client: httpx.Client, auth: dict[str, str]
) -> None:
    world.verify_callback = lambda url: 200
    watched, other = list(world.boards[_board(world)].card_ids)[:2]
    _create(client, auth, "https://hooks.example/e", watched)
    client.post(f"{CONTROL}/cards/{other}/comments", json={"text": "elsewhere"})
    client.post(f"{CONTROL}/cards/{watched}/comments", json={"text": "here"})
    assert [orjson.loads(d.body)["action"]["data"]["text"] for d in sink.deliveries] == ["here"]
