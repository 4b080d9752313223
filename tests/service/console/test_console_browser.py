"""The console in a real browser: Debian's Chromium, headless, driven by Playwright over loopback,
on the real app with the portal beside it.

The operator signs in with an admin token, filters flags, publishes one in their own words (then
the client reads it in the portal and in its feed), dismisses one, reads a client's comment and
marks it handled, and removes a source after its confirmation page. Every console page is read at
1280 px and at 390 px: nothing scrolls sideways, controls lie inside the viewport and are at least
44 px high, and axe-core finds no serious or critical violation (at 1280 px: its rules do not depend
on the width).

One browser and one seeded world for the module; skipped on a machine without Chromium or
axe-core, never in CI (`tests/support/browser.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from sandbox.server import LoopbackServer
from service.api.app import create_app
from service.console import console_router
from service.domain.enums import FlagTriage
from service.portal import portal_router
from service.store.flags import get_flag
from service.store.runtime import Store
from service.store.sources import list_sources
from tests.service.console.conftest import unlimited
from tests.support.api import bearer, make_settings
from tests.support.browser import (
    DESKTOP,
    WIDTHS,
    launch_chromium,
    layout_problems,
    new_context,
    require_axe,
    require_chromium,
    serious_accessibility_violations,
)
from tests.support.console import FEEDBACK_COMMENT, SPARE_SOURCE, ConsoleWorld, seed_console_world
from tests.support.fakes import RecordingEnqueuer

WORDING = "The checkout redesign may slip by a week; we will confirm on Friday."


@dataclass
class Served:
    base_url: str
    store: Store
    seeded: ConsoleWorld


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_chromium()
    require_axe()
    settings = make_settings(tmp_path_factory.mktemp("console-browser"))
    app = create_app(
        settings, enqueuer=RecordingEnqueuer(), extra_routers=[portal_router(), console_router()]
    )
    with LoopbackServer(app, lifespan=True) as server:
        unlimited(app)
        store: Store = app.state.store
        yield Served(base_url=server.base_url, store=store, seeded=seed_console_world(store))


@pytest.fixture(scope="module")
def chromium(served: Served) -> Iterator[Browser]:
    yield from launch_chromium()


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def context(request: pytest.FixtureRequest, chromium: Browser) -> Iterator[BrowserContext]:
    opened = new_context(chromium, request.param)
    try:
        yield opened
    finally:
        opened.close()


def sign_in(page: Page, served: Served) -> None:
    page.goto(f"{served.base_url}/console/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Admin token").fill(served.seeded.world.admin_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()


def assert_fits_and_accessible(page: Page) -> None:
    """Layout at every width; axe-core's rules do not depend on the width, so it runs at one."""
    assert layout_problems(page) == [], page.url
    if page.viewport_size and page.viewport_size["width"] == DESKTOP:
        assert serious_accessibility_violations(page) == [], page.url
    expect(page.locator("a.skip")).to_have_attribute("href", "#main")
    assert page.title().endswith("pmbridge console")


def test_every_console_page_fits_the_screen_and_passes_axe(served: Served, context: BrowserContext) -> None:
    world = served.seeded.world
    page = context.new_page()
    page.goto(f"{served.base_url}/console/sign-in")
    assert_fits_and_accessible(page)
    sign_in(page, served)
    pages = [
        "/console/",
        "/console/flags?state=open",
        "/console/flags?severity=loud",
        f"/console/flags/{world.flags['ACME-item']}",
        "/console/sources",
        f"/console/sources/{served.seeded.spare_source_id}/remove",
        "/console/clients",
        f"/console/clients/{world.clients['acme']}/view",
        "/console/rules",
        "/console/feedback",
    ]
    for path in pages:
        page.goto(served.base_url + path)
        assert_fits_and_accessible(page)
    page.goto(f"{served.base_url}/console/flags/{world.flags['INITECH-item']}")
    page.get_by_label("Wording for the client").fill("A risk, in words for the client")
    page.get_by_role("button", name="Preview the publish").click()
    expect(page.get_by_role("heading", name="In the portal")).to_be_visible()
    assert_fits_and_accessible(page)


def test_operator_publishes_a_flag_the_client_then_reads_and_dismisses_another(
    served: Served, chromium: Browser
) -> None:
    world = served.seeded.world
    context = new_context(chromium, DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, served)
        page.get_by_role("link", name="Flags", exact=True).click()
        page.get_by_label("Client").select_option("globex")
        page.get_by_label("State").select_option("open")
        page.get_by_role("button", name="Show flags").click()
        assert "client=globex" in page.url
        expect(page.get_by_role("heading", name="GLOBEX web: GLOBEX 1.0")).to_be_visible()
        assert "ACME" not in page.inner_text("main")

        page.get_by_role("link", name="GLOBEX: rule-unpublished").click()
        page.get_by_label("Wording for the client").fill(WORDING)
        page.get_by_role("button", name="Preview the publish").click()
        expect(page.locator(".risks.preview")).to_have_text(f"Watch: {WORDING}")
        expect(page.locator("ul.digest")).to_have_text(f"Watch (GLOBEX web): {WORDING}")
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page.get_by_text("Published to the clients who see it.")).to_be_visible()

        page.goto(f"{served.base_url}/console/flags/{world.flags['GLOBEX-item']}")
        page.get_by_label("Known: we know, and it needs no flag").check()
        page.get_by_role("button", name="Dismiss").click()
        expect(page.get_by_text("Dismissed.", exact=True)).to_be_visible()
    finally:
        context.close()

    with served.store.sessions() as session:
        assert get_flag(session, flag_id=world.flags["GLOBEX-item"]).triage is FlagTriage.DISMISSED

    portal = new_context(chromium, DESKTOP)
    try:
        page = portal.new_page()
        page.goto(f"{served.base_url}/portal")
        page.get_by_label("Access token").fill(world.tokens["globex"])
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{served.base_url}/portal/projects/{world.projects['GLOBEX']}")
        expect(page.locator("ul.risks")).to_contain_text(f"Watch: {WORDING}")
    finally:
        portal.close()

    feed = httpx.get(
        f"{served.base_url}/v1/feed", headers=bearer(world.tokens["globex"]), params={"limit": 100}
    )
    assert feed.status_code == 200
    raised = [e for e in feed.json()["events"] if e["kind"] == "risk_raised"]
    assert [e["summary"] for e in raised][-1:] == [WORDING] or any(WORDING in str(e) for e in raised)


def test_operator_removes_a_source_after_its_confirmation_page(served: Served, chromium: Browser) -> None:
    context = new_context(chromium, DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, served)
        page.get_by_role("link", name="Sources", exact=True).click()
        spare = page.locator(f"#source-{served.seeded.spare_source_id}")
        spare.get_by_role("link", name="Remove…").click()
        expect(page.get_by_role("heading", name=f"Remove {SPARE_SOURCE}?")).to_be_visible()
        expect(page.get_by_role("table")).to_contain_text("work items")
        page.get_by_role("button", name=f"Remove {SPARE_SOURCE}").click()
        expect(page.get_by_text("Removed, with everything synced from it.")).to_be_visible()
        expect(page.get_by_role("heading", name=SPARE_SOURCE)).to_have_count(0)
    finally:
        context.close()
    with served.store.sessions() as session:
        assert SPARE_SOURCE not in [s.name for s in list_sources(session)]


def test_operator_reads_a_comment_and_marks_it_handled(served: Served, chromium: Browser) -> None:
    context = new_context(chromium, DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, served)
        page.get_by_role("link", name="Feedback", exact=True).click()
        page.get_by_label("Client").select_option("acme")
        page.get_by_role("button", name="Show feedback").click()
        rating = page.locator(".feedback-list li", has_text=FEEDBACK_COMMENT)
        expect(rating).to_contain_text("2 of 5")
        expect(rating).to_contain_text("ACME 1.0")
        rating.get_by_role("button", name="Mark handled").click()
        expect(page.get_by_text("Marked handled.")).to_be_visible()
        expect(page.get_by_text(FEEDBACK_COMMENT)).to_have_count(0)
    finally:
        context.close()
