"""Portal sessions are rows on the server: the cookie is a random secret, signing out and revoking
the token end them, a deleted client's cookie opens nothing, and sign-in attempts are limited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.api.app import create_app
from service.portal import portal_router
from service.store.db import transaction
from service.store.migrate import upgrade_schema
from service.store.orm import ApiTokenRow, PortalSessionRow
from service.store.runtime import Store, open_store
from service.store.tenancy import add_client, issue_token, revoke_token
from service.web.forms import SIGN_IN_ADDRESS_BURST, SIGN_IN_PREFIX_BURST, SignInLimits
from service.web.sessions import SessionCodec, hash_session_secret, new_session_secret
from tests.service.portal.conftest import Portal, csrf_of, sign_in
from tests.support.api import bearer, make_settings, store_of
from tests.support.fakes import FakeClock, RecordingEnqueuer


def _session_rows(store: Store) -> int:
    with store.sessions() as session:
        return session.query(PortalSessionRow).count()


def _new_client_token(store: Store, name: str) -> tuple[int, int, str]:
    now = datetime.now(UTC)
    with transaction(store.sessions) as session:
        client = add_client(session, name=name, now=now)
        issued = issue_token(
            session, client_id=client.id, is_admin=False, name=name, expires_at=None, now=now
        )
    assert issued.token.id is not None
    return client.id, issued.token.id, issued.secret


def test_session_secret_is_random_and_only_its_hash_is_kept() -> None:
    first, second = new_session_secret(), new_session_secret()

    assert first != second
    assert len(first) >= 43
    assert hash_session_secret(first) != first
    assert len(hash_session_secret(first)) == 64


def test_session_codec_csrf_token_differs_per_session() -> None:
    codec = SessionCodec(b"k" * 44)
    first, second = new_session_secret(), new_session_secret()

    assert codec.csrf_token(first) != codec.csrf_token(second)
    assert codec.csrf_matches(first, codec.csrf_token(first))
    assert not codec.csrf_matches(first, codec.csrf_token(second))
    assert not codec.csrf_matches(first, None)
    assert SessionCodec(b"j" * 44).csrf_token(first) != codec.csrf_token(first)


def test_sign_in_stores_a_session_row_named_by_the_cookie_hash(portal: Portal) -> None:
    browser = portal.browser()

    cookie = sign_in(browser, portal.world.tokens["initech"])

    with portal.store.sessions() as session:
        row = session.get(PortalSessionRow, hash_session_secret(cookie))
    assert row is not None
    assert row.token_id == portal.world.token_ids["initech"]


def test_sign_out_ends_the_session_for_a_copied_cookie_too(portal: Portal) -> None:
    browser = portal.browser()
    cookie = sign_in(browser, portal.world.tokens["acme"])
    copy = portal.browser()
    copy.cookies.set("pmb_portal", cookie, path="/portal")
    assert copy.get("/portal").status_code == 200

    response = browser.post("/portal/sign-out", data={"csrf": csrf_of(browser.get("/portal").text)})

    assert response.status_code == 303
    assert copy.get("/portal").status_code == 303
    with portal.store.sessions() as session:
        assert session.get(PortalSessionRow, hash_session_secret(cookie)) is None


def test_revoking_a_token_deletes_its_portal_sessions(portal: Portal) -> None:
    _, token_id, secret = _new_client_token(portal.store, "Revokeco")
    cookies = [sign_in(portal.browser(), secret) for _ in range(2)]
    before = _session_rows(portal.store)

    with transaction(portal.store.sessions) as session:
        revoke_token(session, token_id=token_id, now=datetime.now(UTC))

    assert _session_rows(portal.store) == before - 2
    with portal.store.sessions() as session:
        assert all(session.get(PortalSessionRow, hash_session_secret(c)) is None for c in cookies)


@pytest.fixture
def portal_on_each_database(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The API with the portal on a migrated database of each dialect."""
    settings = make_settings(tmp_path, database_url=database_url)
    migrated = open_store(settings, check_schema=False)
    upgrade_schema(migrated.engine)
    migrated.close()
    app = create_app(settings, enqueuer=RecordingEnqueuer(), extra_routers=[portal_router()])
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _client_with_token(api: TestClient, admin: dict[str, str], name: str) -> tuple[int, int, str]:
    client_id = api.post("/admin/clients", json={"name": name}, headers=admin).json()["id"]
    token = api.post("/admin/tokens", json={"name": name, "client_id": client_id}, headers=admin).json()
    return client_id, token["id"], token["token"]


def test_deleted_clients_cookie_and_token_open_nothing_after_the_next_client_on_each_database(
    portal_on_each_database: TestClient,
) -> None:
    api, store = portal_on_each_database, store_of(portal_on_each_database)
    with transaction(store.sessions) as session:
        admin = bearer(
            issue_token(
                session, client_id=None, is_admin=True, name="ops", expires_at=None, now=datetime.now(UTC)
            ).secret
        )
    gone_client, gone_token, secret = _client_with_token(api, admin, "Goneco")
    cookie = sign_in(api, secret)
    assert api.get("/portal").status_code == 200

    assert api.delete(f"/admin/clients/{gone_client}", headers=admin).status_code == 204
    next_client, next_token, next_secret = _client_with_token(api, admin, "Nextco")

    assert next_client > gone_client and next_token > gone_token
    with store.sessions() as session:
        assert (
            session.scalars(select(PortalSessionRow).where(PortalSessionRow.token_id == gone_token)).all()
            == []
        )
        assert session.get(ApiTokenRow, gone_token) is None
    stale = TestClient(api.app, follow_redirects=False)
    stale.cookies.set("pmb_portal", cookie, path="/portal")
    response = stale.get("/portal")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/portal/sign-in")
    assert api.get("/v1/projects", headers=bearer(secret)).status_code == 401
    assert api.get("/v1/projects", headers=bearer(next_secret)).status_code == 200


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[TestClient]:
    """The portal with its default sign-in limits."""
    app = create_app(make_settings(tmp_path), enqueuer=RecordingEnqueuer(), extra_routers=[portal_router()])
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _attempt(client: TestClient, token: str) -> tuple[int, dict[str, str]]:
    """One sign-in through the form; tokens whose first 8 characters differ count apart per prefix."""
    form = client.get("/portal/sign-in")
    response = client.post("/portal/sign-in", data={"csrf": csrf_of(form.text), "token": token, "next": ""})
    return response.status_code, dict(response.headers)


def test_sign_in_past_the_address_burst_answers_429_with_retry_after(limited: TestClient) -> None:
    statuses = [_attempt(limited, f"pmb_{n:04d}guess")[0] for n in range(SIGN_IN_ADDRESS_BURST)]

    status, headers = _attempt(limited, "pmb_9999guess")

    assert statuses == [401] * SIGN_IN_ADDRESS_BURST
    assert status == 429
    assert int(headers["retry-after"]) >= 1


def test_sign_in_past_the_burst_is_refused_even_with_a_valid_token(limited: TestClient) -> None:
    _, _, secret = _new_client_token(store_of(limited), "Realco")
    for n in range(SIGN_IN_ADDRESS_BURST):
        _attempt(limited, f"pmb_{n:04d}guess")

    status, _ = _attempt(limited, secret)

    assert status == 429
    assert "pmb_portal" not in limited.cookies


def test_sign_in_limits_per_prefix_hold_across_addresses_and_refill_with_time() -> None:
    clock = FakeClock()
    limits = SignInLimits(clock=clock)
    token = "pmb_AbCdsecret"

    waits = [limits.wait(address=f"10.0.0.{n}", token=token) for n in range(SIGN_IN_PREFIX_BURST)]
    refused = limits.wait(address="10.0.0.99", token=token)
    other_prefix = limits.wait(address="10.0.0.98", token="pmb_ZzZzsecret")
    clock.advance(refused or 0.0)

    assert waits == [None] * SIGN_IN_PREFIX_BURST
    assert refused is not None and refused > 0
    assert other_prefix is None
    assert limits.wait(address="10.0.0.97", token=token) is None
