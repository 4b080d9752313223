"""A portal over the API tests' small agency: three clients, each signed in through the form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.portal import portal_router
from service.portal.web import SignInLimits
from service.store.db import transaction
from service.store.orm import FeedEventRow
from service.store.runtime import Store
from tests.support.api import World, make_settings, seed_world
from tests.support.fakes import RecordingEnqueuer

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Portal:
    app: FastAPI
    store: Store
    world: World

    def browser(self) -> TestClient:
        """A fresh cookie jar on the running app (the lifespan is run once, by the fixture)."""
        return TestClient(self.app, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def sign_in(browser: TestClient, token: str) -> str:
    """Sign in through the form, as a browser would; returns the session cookie."""
    form = browser.get("/portal/sign-in")
    response = browser.post("/portal/sign-in", data={"csrf": csrf_of(form.text), "token": token, "next": ""})
    assert response.status_code == 303, response.text
    cookie = browser.cookies.get("pmb_portal")
    assert cookie
    return cookie


def add_slip_event(store: Store, *, client_id: int, project_id: int, summary: str) -> int:
    """A `commitment_moved` event from the last few days, the kind that asks for a rating."""
    now = datetime.now(UTC)
    with transaction(store.sessions) as session:
        row = FeedEventRow(
            client_id=client_id,
            project_id=project_id,
            kind="commitment_moved",
            dedupe_key=f"slip-{summary}",
            summary=summary,
            payload={"summary": summary},
            occurred_at=now - timedelta(days=1),
            created_at=now,
        )
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    settings = make_settings(tmp_path_factory.mktemp("portal"))
    app = create_app(settings, enqueuer=RecordingEnqueuer(), extra_routers=[portal_router()])
    with TestClient(app):
        store: Store = app.state.store
        # Every test of the module signs in from one address; the limits have tests of their own.
        app.state.portal_sign_in_limits = SignInLimits(address_burst=10_000, prefix_burst=10_000)
        world = seed_world(store)
        yield Portal(app=app, store=store, world=world)
