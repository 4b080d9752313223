"""A console over the API tests' small agency, with the portal beside it (as the entrypoint mounts
both): signed in through the form with the world's admin token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.console import console_router
from service.portal import portal_router
from service.store.runtime import Store
from service.web.forms import SignInLimits
from tests.support.api import World, make_settings
from tests.support.console import ConsoleWorld, seed_console_world
from tests.support.fakes import RecordingEnqueuer

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Console:
    app: FastAPI
    store: Store
    seeded: ConsoleWorld

    @property
    def world(self) -> World:
        return self.seeded.world

    def browser(self) -> TestClient:
        """A fresh cookie jar on the running app (the lifespan is run once, by the fixture)."""
        return TestClient(self.app, follow_redirects=False)

    def signed_in(self) -> TestClient:
        browser = self.browser()
        sign_in(browser, self.world.admin_token)
        return browser


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def sign_in(browser: TestClient, token: str, *, site: str = "/console") -> str:
    """Sign in through the form, as a browser would; returns the session cookie."""
    form = browser.get(f"{site}/sign-in")
    response = browser.post(f"{site}/sign-in", data={"csrf": csrf_of(form.text), "token": token, "next": ""})
    assert response.status_code == 303, response.text
    cookie = browser.cookies.get("pmb_console" if site == "/console" else "pmb_portal")
    assert cookie
    return cookie


def unlimited(app: FastAPI) -> None:
    """Every test of a module signs in from one address; the limits have tests of their own."""
    app.state.portal_sign_in_limits = SignInLimits(address_burst=10_000, prefix_burst=10_000)
    app.state.console_sign_in_limits = SignInLimits(address_burst=10_000, prefix_burst=10_000)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    settings = make_settings(tmp_path_factory.mktemp("console"))
    app = create_app(
        settings, enqueuer=RecordingEnqueuer(), extra_routers=[portal_router(), console_router()]
    )
    with TestClient(app):
        store: Store = app.state.store
        unlimited(app)
        yield Console(app=app, store=store, seeded=seed_console_world(store))
