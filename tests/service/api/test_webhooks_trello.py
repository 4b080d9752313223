"""Trello webhook intake: answer the HEAD probe, verify, store once by action id, refuse what must be."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from connectors.trello import compute_signature
from service.api.app import create_app
from service.domain.enums import SourceKind
from service.settings import Settings
from service.store.db import build_engine
from service.store.orm import InboxRow
from service.store.runtime import Store
from service.webhooks.intake import WebhookIntake
from tests.support.api import OUT_OF_RANGE_ID_NAMES, OUT_OF_RANGE_IDS
from tests.support.fakes import RecordingEnqueuer
from tests.support.sources import add_test_source

APP_SECRET = "trello-app-secret-for-tests"
ACTION_ID = "65a7d90e0000000000000003"
CARD_MOVED = json.dumps(
    {
        "action": {
            "id": ACTION_ID,
            "type": "updateCard",
            "date": "2024-01-18T09:00:00.000Z",
            "data": {
                "card": {"id": "65a7d0aa1f2e3d4c5b6a7980"},
                "old": {"idList": "60a1b2c3d4e5f60718293a50"},
            },
        },
        "model": {"id": "60a1b2c3d4e5f60718293a4b"},
    }
).encode()
UNREACHABLE_URL = "postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2"


@pytest.fixture
def trello_source_id(app_store: Store) -> int:
    return add_test_source(
        app_store,
        kind=SourceKind.TRELLO,
        name="acme-trello",
        webhook_secret=APP_SECRET,
        credentials={"api_key": "k", "token": "t"},
    )


def path_of(source_id: int) -> str:
    return f"/webhooks/trello/{source_id}"


def post(
    client: TestClient,
    source_id: int,
    body: bytes,
    *,
    signature: str | None = None,
    callback_base: str = "http://testserver",
) -> httpx.Response:
    callback = callback_base + path_of(source_id)
    header = (
        signature
        if signature is not None
        else compute_signature(body=body, callback_url=callback, secret=APP_SECRET)
    )
    return client.post(
        path_of(source_id),
        content=body,
        headers={"Content-Type": "application/json", "X-Trello-Webhook": header},
    )


def inbox_rows(store: Store) -> list[InboxRow]:
    with store.sessions() as session:
        return list(session.scalars(select(InboxRow).order_by(InboxRow.id)))


def test_trello_webhook_head_probe_answers_200(client: TestClient, trello_source_id: int) -> None:
    response = client.head(path_of(trello_source_id))

    assert response.status_code == 200


@pytest.mark.parametrize("kind", [None, SourceKind.JIRA_CLOUD], ids=["unknown-source", "jira-source"])
def test_trello_webhook_head_probe_for_no_trello_source_is_404(
    client: TestClient, app_store: Store, kind: SourceKind | None
) -> None:
    source_id = 999 if kind is None else add_test_source(app_store, kind=kind, name="j", webhook_secret="s")

    response = client.head(path_of(source_id))

    assert response.status_code == 404


def test_trello_webhook_valid_delivery_is_stored_by_action_id_and_queued(
    client: TestClient, app_store: Store, trello_source_id: int, enqueuer: RecordingEnqueuer
) -> None:
    response = post(client, trello_source_id, CARD_MOVED)

    assert response.status_code == 202
    rows = inbox_rows(app_store)
    assert [(r.delivery_id, r.event_type, r.body) for r in rows] == [(ACTION_ID, "updateCard", CARD_MOVED)]
    assert response.json() == {"status": "accepted", "inbox_id": rows[0].id}
    assert client.app.state.delivery_trigger.flush()  # type: ignore[attr-defined]
    assert enqueuer.deliveries == [rows[0].id]


def test_trello_webhook_duplicate_delivery_answers_200_and_changes_nothing(
    client: TestClient, app_store: Store, trello_source_id: int, enqueuer: RecordingEnqueuer
) -> None:
    post(client, trello_source_id, CARD_MOVED)

    again = post(client, trello_source_id, CARD_MOVED)

    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "inbox_id": None}
    assert len(inbox_rows(app_store)) == 1
    assert client.app.state.delivery_trigger.flush()  # type: ignore[attr-defined]
    assert len(enqueuer.deliveries) == 1


@pytest.mark.parametrize(
    "signature",
    [
        "A" * 27 + "=",
        compute_signature(
            body=CARD_MOVED, callback_url="http://testserver/webhooks/trello/1", secret="other"
        ),
        compute_signature(
            body=CARD_MOVED, callback_url="http://elsewhere/webhooks/trello/1", secret=APP_SECRET
        ),
        "not base64!",
        "",
    ],
    ids=["zero-digest", "wrong-secret", "other-callback-url", "malformed", "empty"],
)
def test_trello_webhook_bad_signature_is_401_and_nothing_stored(
    client: TestClient, app_store: Store, trello_source_id: int, signature: str
) -> None:
    response = post(client, trello_source_id, CARD_MOVED, signature=signature)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert inbox_rows(app_store) == []


def test_trello_webhook_missing_signature_is_401(
    client: TestClient, app_store: Store, trello_source_id: int
) -> None:
    response = client.post(path_of(trello_source_id), content=CARD_MOVED)

    assert response.status_code == 401
    assert response.json()["error"]["details"] == {"reason": "missing"}
    assert inbox_rows(app_store) == []


@pytest.mark.parametrize(
    "body",
    [b'{"action": {"id": ', b"[1, 2]", b'{"model": {}}', b'{"action": {"type": "updateCard"}}'],
    ids=["truncated-json", "json-array", "no-action", "action-without-id"],
)
def test_trello_webhook_malformed_body_is_400(
    client: TestClient, app_store: Store, trello_source_id: int, body: bytes
) -> None:
    response = post(client, trello_source_id, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert inbox_rows(app_store) == []


def test_trello_webhook_body_over_one_mebibyte_is_413(
    client: TestClient, app_store: Store, trello_source_id: int
) -> None:
    body = b'{"pad": "' + b"x" * (1 << 20) + b'"}'

    response = post(client, trello_source_id, body)

    assert response.status_code == 413
    assert inbox_rows(app_store) == []


def test_trello_webhook_to_a_jira_source_is_404(client: TestClient, app_store: Store) -> None:
    jira_id = add_test_source(app_store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret=APP_SECRET)

    response = post(client, jira_id, CARD_MOVED)

    assert response.status_code == 404
    assert inbox_rows(app_store) == []


def test_trello_webhook_database_down_answers_503_never_2xx(
    client: TestClient, app_store: Store, trello_source_id: int
) -> None:
    # Nothing listens on port 1: every database call fails as if the server went away.
    down = replace(app_store, engine=build_engine(UNREACHABLE_URL))
    client.app.state.webhook_intake = WebhookIntake(down)  # type: ignore[attr-defined]

    response = post(client, trello_source_id, CARD_MOVED)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


@pytest.fixture
def public_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "public",
        secret_key=SecretStr(Fernet.generate_key().decode()),
        public_url="https://pmbridge.agency.example/",
    )
    with TestClient(create_app(settings, enqueuer=RecordingEnqueuer())) as test_client:
        yield test_client


def test_trello_webhook_with_a_public_url_verifies_against_the_registered_callback(
    public_client: TestClient,
) -> None:
    store: Store = public_client.app.state.store  # type: ignore[attr-defined]
    source_id = add_test_source(store, kind=SourceKind.TRELLO, name="t", webhook_secret=APP_SECRET)

    as_received = post(public_client, source_id, CARD_MOVED)
    as_registered = post(
        public_client, source_id, CARD_MOVED, callback_base="https://pmbridge.agency.example"
    )

    assert (as_received.status_code, as_registered.status_code) == (401, 202)


@pytest.mark.parametrize("source_id", OUT_OF_RANGE_IDS, ids=OUT_OF_RANGE_ID_NAMES)
@pytest.mark.parametrize("method", ["HEAD", "POST"])
def test_trello_webhook_source_id_out_of_range_is_422(
    client: TestClient, app_store: Store, method: str, source_id: str
) -> None:
    response = client.request(method, f"/webhooks/trello/{source_id}", content=CARD_MOVED)

    assert response.status_code == 422
    assert inbox_rows(app_store) == []
