"""`POST /admin/sources/{id}/webhooks` (Trello webhooks registered against the sandbox, as `pmbridge
sources webhooks` does; a Jira source refused) and `GET /admin/sources/{id}/webhooks` (how its
deliveries stand)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.domain.enums import SourceKind
from service.store.db import transaction
from service.store.orm import InboxRow
from tests.support.api import World, bearer, store_of
from tests.support.sources import add_test_source
from tests.support.trello_sandbox import TrelloSandbox, serve_trello_sandbox

PUBLIC_URL = "https://pmbridge.agency.example"


@pytest.fixture
def trello_sandbox() -> Iterator[TrelloSandbox]:
    with serve_trello_sandbox("tiny", seed=7) as sandbox:
        sandbox.world.verify_callback = lambda _url: 200
        yield sandbox


@pytest.fixture
def api_overrides() -> dict[str, Any]:
    return {"public_url": PUBLIC_URL}


@pytest.fixture
def admin(world: World) -> dict[str, str]:
    return bearer(world.admin_token)


@pytest.fixture
def trello_source_id(api: TestClient, trello_sandbox: TrelloSandbox) -> int:
    sandbox = trello_sandbox.sandbox
    return add_test_source(
        store_of(api),
        kind=SourceKind.TRELLO,
        name="agency-trello",
        webhook_secret=sandbox.trello_app_secret,
        base_url=trello_sandbox.base_url,
        credentials={"api_key": sandbox.trello_api_key, "token": sandbox.trello_token},
    )


def test_webhooks_post_registers_one_per_board_at_the_public_url(
    api: TestClient, admin: dict[str, str], trello_sandbox: TrelloSandbox, trello_source_id: int
) -> None:
    answer = api.post(f"/admin/sources/{trello_source_id}/webhooks", headers=admin)
    again = api.post(f"/admin/sources/{trello_source_id}/webhooks", headers=admin)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    callback = f"{PUBLIC_URL}/webhooks/trello/{trello_source_id}"
    assert (body["id"], body["callback_url"]) == (trello_source_id, callback)
    assert sorted(body["webhooks"]) == sorted(trello_sandbox.world.boards)
    assert all(outcome.startswith("registered ") for outcome in body["webhooks"].values())
    hooks = trello_sandbox.world.webhooks.values()
    assert sorted(hook.id_model for hook in hooks) == sorted(trello_sandbox.world.boards)
    assert {hook.callback_url for hook in hooks} == {callback}
    assert again.json() == body  # confirmed, not registered twice
    assert len(trello_sandbox.world.webhooks) == len(trello_sandbox.world.boards)


def test_webhooks_post_for_a_jira_source_answers_422_saying_why(
    api: TestClient, admin: dict[str, str], world: World
) -> None:
    answer = api.post(f"/admin/sources/{world.source_id}/webhooks", headers=admin)

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "validation_failed"
    assert "set up by its administrator" in error["message"]


@pytest.mark.parametrize("method", ["GET", "POST"], ids=["status", "register"])
def test_webhooks_of_an_unknown_source_answer_404(
    api: TestClient, admin: dict[str, str], world: World, method: str
) -> None:
    answer = api.request(method, "/admin/sources/999999/webhooks", headers=admin)

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_webhooks_status_counts_pending_and_dead_deliveries_and_the_last_received(
    api: TestClient, admin: dict[str, str], world: World, trello_source_id: int
) -> None:
    received = datetime(2026, 9, 2, 8, 0, tzinfo=UTC)
    with transaction(store_of(api).sessions) as session:
        for n, (source_id, status, minutes) in enumerate(
            [
                (world.source_id, "processed", 0),
                (world.source_id, "pending", 5),
                (world.source_id, "pending", 10),
                (world.source_id, "dead", 1),
                (trello_source_id, "dead", 30),  # another source's
            ]
        ):
            session.add(
                InboxRow(
                    source_id=source_id,
                    delivery_id=f"d-{n}",
                    event_type="jira:issue_updated",
                    body=b"{}",
                    received_at=received + timedelta(minutes=minutes),
                    status=status,
                )
            )

    jira = api.get(f"/admin/sources/{world.source_id}/webhooks", headers=admin)
    quiet = add_test_source(store_of(api), kind=SourceKind.JIRA_CLOUD, name="quiet", webhook_secret=None)
    none = api.get(f"/admin/sources/{quiet}/webhooks", headers=admin)

    assert jira.status_code == 200, jira.text
    body = jira.json()
    assert (body["source_id"], body["pending"], body["dead_letters"]) == (world.source_id, 2, 1)
    assert datetime.fromisoformat(body["last_received_at"]) == received + timedelta(minutes=10)
    assert none.json() == {"source_id": quiet, "last_received_at": None, "pending": 0, "dead_letters": 0}
