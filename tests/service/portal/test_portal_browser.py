"""The portal in a real browser: Debian's Chromium, headless, driven by Playwright over loopback.

CI installs Chromium (.ci/run); on a developer machine without it the test is skipped, never in CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from sandbox.server import LoopbackServer
from service.api.app import create_app
from service.portal import portal_router
from service.store.report_queries import list_feedback
from service.store.runtime import Store
from tests.support.api import World, make_settings, seed_world
from tests.support.fakes import RecordingEnqueuer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def _require_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store, World]]:
    _require_chromium()
    settings = make_settings(tmp_path_factory.mktemp("browser"))
    app = create_app(settings, enqueuer=RecordingEnqueuer(), extra_routers=[portal_router()])
    with LoopbackServer(app, lifespan=True) as server:
        store: Store = app.state.store
        yield server.base_url, store, seed_world(store)


def test_portal_in_browser_signs_in_sees_own_projects_and_records_feedback(
    served: tuple[str, Store, World],
) -> None:
    base_url, store, world = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            page = context.new_page()
            page.goto(f"{base_url}/portal")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

            page.get_by_label("Access token").fill(world.tokens["acme"])
            page.get_by_role("button", name="Sign in").click()

            expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
            assert "token" not in page.url
            projects = page.locator("ul.projects h2").all_inner_texts()
            assert sorted(name.split(" ")[0] for name in projects) == ["ACME", "SHARED"]
            session = next(c for c in context.cookies() if c["name"] == "pmb_portal")
            assert session["httpOnly"] is True
            assert session["sameSite"] == "Lax"

            rating = page.locator("form.rating", has=page.get_by_text("How are we doing overall"))
            rating.get_by_label("4 Happy").check()
            rating.get_by_label("Anything you want to tell us?").fill("Clear weekly updates, thank you")
            rating.get_by_role("button", name="Send rating").click()

            expect(page.get_by_text("your rating was recorded")).to_be_visible()
            expect(page.get_by_text("Clear weekly updates, thank you")).to_be_visible()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "portal-overview.png"), full_page=True)
        finally:
            browser.close()

    with store.sessions() as session:
        recorded = list_feedback(session, client_id=world.clients["acme"], limit=5)
    assert [(f.rating, f.comment) for f in recorded] == [(4, "Clear weekly updates, thank you")]
