"""Portal sessions are rows on the server: the cookie is a random secret, signing out and revoking
the token end them, a deleted client's cookie opens nothing, and sign-in attempts are limited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.portal import portal_router
from service.portal.sessions import SessionCodec, hash_session_secret, new_session_secret
from service.portal.web import SIGN_IN_ADDRESS_BURST, SIGN_IN_PREFIX_BURST, SignInLimits
from service.store.db import transaction
from service.store.orm import PortalSessionRow
from service.store.runtime import Store
from service.store.tenancy import add_client, delete_client, issue_token, revoke_token
from tests.service.portal.conftest import Portal, csrf_of, sign_in
from tests.support.api import make_settings, store_of
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


def test_deleted_clients_cookie_never_opens_the_next_client_created(portal: Portal) -> None:
    client_id, _, secret = _new_client_token(portal.store, "Goneco")
    old = portal.browser()
    cookie = sign_in(old, secret)
    with transaction(portal.store.sessions) as session:
        delete_client(session, client_id=client_id)
    # On SQLite the next client and token may be given the deleted ones' ids.
    _new_client_token(portal.store, "Nextco")

    stale = portal.browser()
    stale.cookies.set("pmb_portal", cookie, path="/portal")
    response = stale.get("/portal")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/portal/sign-in")


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
