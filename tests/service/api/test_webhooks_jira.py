"""Jira webhook intake: verify, store once, acknowledge; refuse what must be refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, Response
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from service.api.direct_route import DirectRoute
from service.api.webhooks import WebhookAck
from service.domain.enums import SourceKind
from service.store.db import build_engine, transaction
from service.store.orm import InboxRow, SourceRow
from service.store.runtime import Store
from service.webhooks.intake import WebhookIntake
from tests.support.fakes import RecordingEnqueuer
from tests.support.sources import JIRA_WEBHOOK_SECRET, add_test_source

ISSUE_UPDATED = json.dumps(
    {
        "webhookEvent": "jira:issue_updated",
        "timestamp": 1764150000000,
        "issue": {"id": "10001", "key": "ACME-1", "fields": {}},
    }
).encode()


UNREACHABLE_URL = "postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2"


def sign(body: bytes, secret: str = JIRA_WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(
    client: TestClient,
    source_id: int,
    body: bytes,
    *,
    delivery: str | None = "d-1",
    signature: str | None = None,
) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Hub-Signature": signature or sign(body)}
    if delivery is not None:
        headers["X-Atlassian-Webhook-Identifier"] = delivery
    return client.post(f"/webhooks/jira/{source_id}", content=body, headers=headers)


def inbox_rows(store: Store) -> list[InboxRow]:
    with store.sessions() as session:
        return list(session.scalars(select(InboxRow).order_by(InboxRow.id)))


def test_jira_webhook_valid_delivery_is_stored_and_queued(
    client: TestClient, app_store: Store, jira_source_id: int, enqueuer: RecordingEnqueuer
) -> None:
    response = post(client, jira_source_id, ISSUE_UPDATED)

    assert response.status_code == 202
    rows = inbox_rows(app_store)
    assert [(r.delivery_id, r.event_type, r.body) for r in rows] == [
        ("d-1", "jira:issue_updated", ISSUE_UPDATED)
    ]
    assert response.json() == {"status": "accepted", "inbox_id": rows[0].id}
    assert client.app.state.delivery_trigger.flush()  # type: ignore[attr-defined]
    assert enqueuer.deliveries == [rows[0].id]


def test_jira_webhook_duplicate_delivery_answers_200_and_changes_nothing(
    client: TestClient, app_store: Store, jira_source_id: int, enqueuer: RecordingEnqueuer
) -> None:
    post(client, jira_source_id, ISSUE_UPDATED)

    again = post(client, jira_source_id, ISSUE_UPDATED)

    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "inbox_id": None}
    assert len(inbox_rows(app_store)) == 1
    assert client.app.state.delivery_trigger.flush()  # type: ignore[attr-defined]
    assert len(enqueuer.deliveries) == 1


def test_jira_webhook_without_identifier_dedupes_by_body(
    client: TestClient, app_store: Store, jira_source_id: int
) -> None:
    first = post(client, jira_source_id, ISSUE_UPDATED, delivery=None)
    second = post(client, jira_source_id, ISSUE_UPDATED, delivery=None)

    assert (first.status_code, second.status_code) == (202, 200)
    assert inbox_rows(app_store)[0].delivery_id.startswith("sha256:")


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + "0" * 64,
        sign(ISSUE_UPDATED, secret="another-secret"),
        "sha256=zz",
        "md5=abc",
        "garbage",
    ],
    ids=["zero-digest", "wrong-secret", "malformed-hex", "unsupported-method", "no-method"],
)
def test_jira_webhook_bad_signature_is_401_and_nothing_stored(
    client: TestClient, app_store: Store, jira_source_id: int, signature: str
) -> None:
    response = post(client, jira_source_id, ISSUE_UPDATED, signature=signature)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert inbox_rows(app_store) == []


def test_jira_webhook_missing_signature_is_401(
    client: TestClient, app_store: Store, jira_source_id: int
) -> None:
    response = client.post(
        f"/webhooks/jira/{jira_source_id}",
        content=ISSUE_UPDATED,
        headers={"X-Atlassian-Webhook-Identifier": "d-1"},
    )

    assert response.status_code == 401
    assert response.json()["error"]["details"] == {"reason": "missing"}
    assert inbox_rows(app_store) == []


def test_jira_webhook_malformed_json_is_400_with_reason(
    client: TestClient, app_store: Store, jira_source_id: int
) -> None:
    body = b'{"webhookEvent": "jira:issue_updated", '

    response = post(client, jira_source_id, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert "not valid JSON" in response.json()["error"]["message"]
    assert inbox_rows(app_store) == []


def test_jira_webhook_json_array_is_400(client: TestClient, app_store: Store, jira_source_id: int) -> None:
    response = post(client, jira_source_id, b"[1, 2]")

    assert response.status_code == 400
    assert inbox_rows(app_store) == []


def test_jira_webhook_body_over_one_mebibyte_is_413(
    client: TestClient, app_store: Store, jira_source_id: int
) -> None:
    body = b'{"pad": "' + b"x" * (1 << 20) + b'"}'

    response = post(client, jira_source_id, body)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert inbox_rows(app_store) == []


def test_jira_webhook_unknown_source_is_404(client: TestClient, app_store: Store) -> None:
    response = post(client, 999, ISSUE_UPDATED)

    assert response.status_code == 404
    assert inbox_rows(app_store) == []


def test_jira_webhook_to_a_trello_source_is_404(client: TestClient, app_store: Store) -> None:
    trello_id = add_test_source(app_store, kind=SourceKind.TRELLO, name="t", webhook_secret="s")

    response = post(client, trello_id, ISSUE_UPDATED)

    assert response.status_code == 404


def test_jira_webhook_source_without_secret_is_401(client: TestClient, app_store: Store) -> None:
    source_id = add_test_source(app_store, kind=SourceKind.JIRA_CLOUD, name="open", webhook_secret=None)

    response = post(client, source_id, ISSUE_UPDATED)

    assert response.status_code == 401
    assert inbox_rows(app_store) == []


def test_jira_webhook_source_id_not_an_integer_is_422_like_any_path_parameter(
    client: TestClient, app_store: Store
) -> None:
    response = client.post("/webhooks/jira/abc", content=ISSUE_UPDATED)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"]["errors"][0]["location"] == ["path", "source_id"]
    assert inbox_rows(app_store) == []


def test_direct_route_refuses_an_endpoint_with_a_body_or_a_dependency() -> None:
    async def with_body(source_id: int, payload: WebhookAck) -> Response:
        return Response()

    async def with_dependency(caller: Annotated[str, Depends(lambda: "x")]) -> Response:
        return Response()

    def not_async(source_id: int) -> Response:
        return Response()

    for endpoint in (with_body, with_dependency, not_async):
        with pytest.raises(TypeError):
            DirectRoute("/webhooks/x/{source_id}", endpoint, methods=["POST"])


def test_jira_webhook_unknown_event_is_stored_for_the_processor(
    client: TestClient, app_store: Store, jira_source_id: int
) -> None:
    body = json.dumps({"webhookEvent": "board_created", "board": {"id": 1}}).encode()

    response = post(client, jira_source_id, body, delivery="d-board")

    assert response.status_code == 202
    assert inbox_rows(app_store)[0].event_type == "board_created"


def test_jira_webhook_database_down_answers_503_never_2xx(
    client: TestClient, app_store: Store, jira_source_id: int
) -> None:
    # Nothing listens on port 1: every database call fails as if the server went away.
    down = replace(app_store, engine=build_engine(UNREACHABLE_URL))
    client.app.state.webhook_intake = WebhookIntake(down)  # type: ignore[attr-defined]

    response = post(client, jira_source_id, ISSUE_UPDATED, delivery="d-down")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


@pytest.mark.parametrize(
    "source_id",
    ["99999999999999999999", "9223372036854775808", "0", "-1"],
    ids=["20-digits", "2^63", "zero", "negative"],
)
def test_jira_webhook_source_id_out_of_range_is_422(
    client: TestClient, app_store: Store, source_id: str
) -> None:
    response = client.post(
        f"/webhooks/jira/{source_id}",
        content=ISSUE_UPDATED,
        headers={"Content-Type": "application/json", "X-Hub-Signature": sign(ISSUE_UPDATED)},
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert inbox_rows(app_store) == []


def test_jira_webhook_identifier_over_200_characters_is_400_and_nothing_stored(
    client: TestClient, app_store: Store, jira_source_id: int
) -> None:
    response = post(client, jira_source_id, ISSUE_UPDATED, delivery="x" * 201)

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"header": "X-Atlassian-Webhook-Identifier", "limit": 200}
    assert inbox_rows(app_store) == []
    assert post(client, jira_source_id, ISSUE_UPDATED, delivery="x" * 200).status_code == 202


def test_jira_webhook_to_a_source_removed_after_its_secret_was_cached_is_404(
    client: TestClient, app_store: Store, jira_source_id: int
) -> None:
    assert post(client, jira_source_id, ISSUE_UPDATED, delivery="d-1").status_code == 202
    with transaction(app_store.sessions) as session:
        session.execute(delete(SourceRow).where(SourceRow.id == jira_source_id))

    response = post(client, jira_source_id, ISSUE_UPDATED, delivery="d-2")
    again = post(client, jira_source_id, ISSUE_UPDATED, delivery="d-3")

    assert (response.status_code, again.status_code) == (404, 404)
    assert response.json()["error"]["details"] == {"source_id": jira_source_id}
    assert inbox_rows(app_store) == []
