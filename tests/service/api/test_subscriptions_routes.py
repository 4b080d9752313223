from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.feed.subscriptions import deliver_due
from service.store.db import transaction
from service.store.tenancy import add_client, issue_token
from tests.support.api import add_feed_event, bearer, make_settings, open_test_api, store_of

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PUBLIC_URL = "https://hooks.example.com/pmbridge"


@dataclass(frozen=True)
class Tenants:
    api: TestClient
    admin: dict[str, str]
    acme: dict[str, str]
    globex: dict[str, str]
    acme_id: int


def _open(tmp_path: Path, *, allow_private: bool) -> Iterator[Tenants]:
    with open_test_api(make_settings(tmp_path, allow_private_source_urls=allow_private)) as api:
        store = store_of(api)
        with transaction(store.sessions) as session:
            acme = add_client(session, name="acme", now=T0)
            globex = add_client(session, name="globex", now=T0)
            assert acme.id is not None and globex.id is not None
            acme_token = issue_token(
                session, client_id=acme.id, is_admin=False, name="a", expires_at=None, now=T0
            )
            globex_token = issue_token(
                session, client_id=globex.id, is_admin=False, name="g", expires_at=None, now=T0
            )
            admin = issue_token(session, client_id=None, is_admin=True, name="ops", expires_at=None, now=T0)
        yield Tenants(
            api=api,
            admin=bearer(admin.secret),
            acme=bearer(acme_token.secret),
            globex=bearer(globex_token.secret),
            acme_id=acme.id,
        )


@pytest.fixture
def tenants(tmp_path: Path) -> Iterator[Tenants]:
    yield from _open(tmp_path, allow_private=False)


@pytest.fixture
def local_tenants(tmp_path: Path) -> Iterator[Tenants]:
    yield from _open(tmp_path, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "http://hooks.example.com/hook",
        "https://user:pw@hooks.example.com/hook",
    ],
    ids=["loopback", "localhost", "private", "metadata", "v6-loopback", "plain-http", "credentials"],
)
def test_post_subscription_unsafe_url_answers_400(tenants: Tenants, url: str) -> None:
    response = tenants.api.post("/v1/subscriptions", json={"url": url}, headers=tenants.acme)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["field"] == "url"


def test_post_subscription_public_url_returns_secret_once(tenants: Tenants) -> None:
    created = tenants.api.post("/v1/subscriptions", json={"url": PUBLIC_URL}, headers=tenants.acme)
    listed = tenants.api.get("/v1/subscriptions", headers=tenants.acme)

    assert created.status_code == 201, created.text
    assert len(created.json()["secret"]) >= 32
    assert created.json()["created_by"] == "client"
    assert [s["id"] for s in listed.json()] == [created.json()["id"]]
    assert "secret" not in listed.json()[0]


def test_post_subscription_same_url_twice_answers_409(tenants: Tenants) -> None:
    tenants.api.post("/v1/subscriptions", json={"url": PUBLIC_URL}, headers=tenants.acme)

    again = tenants.api.post("/v1/subscriptions", json={"url": PUBLIC_URL}, headers=tenants.acme)

    assert again.status_code == 409


def test_post_subscription_unknown_field_answers_422(tenants: Tenants) -> None:
    response = tenants.api.post(
        "/v1/subscriptions", json={"url": PUBLIC_URL, "client_id": 1}, headers=tenants.acme
    )

    assert response.status_code == 422


def test_get_subscriptions_other_clients_are_not_listed(tenants: Tenants) -> None:
    tenants.api.post("/v1/subscriptions", json={"url": PUBLIC_URL}, headers=tenants.acme)

    listed = tenants.api.get("/v1/subscriptions", headers=tenants.globex)

    assert listed.json() == []


def test_delete_subscription_of_another_client_answers_404(tenants: Tenants) -> None:
    created = tenants.api.post("/v1/subscriptions", json={"url": PUBLIC_URL}, headers=tenants.acme).json()

    response = tenants.api.delete(f"/v1/subscriptions/{created['id']}", headers=tenants.globex)

    assert response.status_code == 404
    assert len(tenants.api.get("/v1/subscriptions", headers=tenants.acme).json()) == 1


def test_delete_subscription_own_stops_it_and_frees_the_url(tenants: Tenants) -> None:
    created = tenants.api.post("/v1/subscriptions", json={"url": PUBLIC_URL}, headers=tenants.acme).json()

    deleted = tenants.api.delete(f"/v1/subscriptions/{created['id']}", headers=tenants.acme)
    again = tenants.api.post("/v1/subscriptions", json={"url": PUBLIC_URL}, headers=tenants.acme)

    assert deleted.status_code == 204
    assert again.status_code == 201
    assert [s["id"] for s in tenants.api.get("/v1/subscriptions", headers=tenants.acme).json()] == [
        again.json()["id"]
    ]


def test_post_admin_subscription_is_created_by_the_operator(tenants: Tenants) -> None:
    response = tenants.api.post(
        f"/admin/clients/{tenants.acme_id}/subscriptions", json={"url": PUBLIC_URL}, headers=tenants.admin
    )

    assert response.status_code == 201, response.text
    assert response.json()["created_by"] == "operator"
    assert response.json()["client_id"] == tenants.acme_id


def test_post_admin_subscription_unknown_client_answers_404(tenants: Tenants) -> None:
    response = tenants.api.post(
        "/admin/clients/999/subscriptions", json={"url": PUBLIC_URL}, headers=tenants.admin
    )

    assert response.status_code == 404


def test_post_admin_retry_unknown_subscription_answers_404(tenants: Tenants) -> None:
    response = tenants.api.post("/admin/subscriptions/999/retry", headers=tenants.admin)

    assert response.status_code == 404


def test_admin_subscription_routes_client_token_answers_403(tenants: Tenants) -> None:
    response = tenants.api.get("/admin/subscriptions", headers=tenants.acme)

    assert response.status_code == 403


def _answering(status: int) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _request: httpx.Response(status))


def _park(tenants: Tenants) -> int:
    store = store_of(tenants.api)
    created = tenants.api.post(
        "/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"}, headers=tenants.acme
    ).json()
    add_feed_event(store, client_id=tenants.acme_id, project_id=None, summary="shipped")
    codec = tenants.api.app.state.feed_reader.codec  # type: ignore[attr-defined]
    for at in (T0, T0 + timedelta(hours=25)):
        deliver_due(store, codec=codec, now=at, allow_private=True, transport=_answering(500))
    subscription_id: int = created["id"]
    return subscription_id


def test_get_admin_subscriptions_parked_one_is_shown_with_its_error(local_tenants: Tenants) -> None:
    subscription_id = _park(local_tenants)

    parked = local_tenants.api.get("/admin/subscriptions?parked=true", headers=local_tenants.admin).json()

    assert [s["id"] for s in parked] == [subscription_id]
    assert parked[0]["parked_at"] is not None
    assert parked[0]["last_status"] == 500
    assert "500" in parked[0]["last_error"]


def test_post_admin_retry_unparks_and_the_next_drain_delivers(local_tenants: Tenants) -> None:
    subscription_id = _park(local_tenants)
    store = store_of(local_tenants.api)
    codec = local_tenants.api.app.state.feed_reader.codec  # type: ignore[attr-defined]

    retried = local_tenants.api.post(
        f"/admin/subscriptions/{subscription_id}/retry", headers=local_tenants.admin
    )
    summary = deliver_due(
        store, codec=codec, now=datetime.now(UTC), allow_private=True, transport=_answering(200)
    )

    assert retried.status_code == 200
    assert retried.json()["parked_at"] is None
    assert summary.delivered == 1
    listed = local_tenants.api.get("/v1/subscriptions", headers=local_tenants.acme).json()
    assert listed[0]["delivered_cursor"] is not None
    assert local_tenants.api.get("/admin/subscriptions?parked=true", headers=local_tenants.admin).json() == []


def test_delivery_cursor_resumes_the_feed_after_that_event(local_tenants: Tenants) -> None:
    store = store_of(local_tenants.api)
    codec = local_tenants.api.app.state.feed_reader.codec  # type: ignore[attr-defined]
    local_tenants.api.post(
        "/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"}, headers=local_tenants.acme
    )
    add_feed_event(store, client_id=local_tenants.acme_id, project_id=None, summary="first")
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    deliver_due(store, codec=codec, now=datetime.now(UTC), allow_private=True, transport=transport)
    later = add_feed_event(store, client_id=local_tenants.acme_id, project_id=None, summary="later")

    cursor = json.loads(sent[0].content)["cursor"]
    page = local_tenants.api.get("/v1/feed", params={"after": cursor}, headers=local_tenants.acme).json()

    assert [e["id"] for e in page["events"]] == [later]
