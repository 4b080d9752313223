"""The portal in a real browser: Debian's Chromium, headless, driven by Playwright over loopback.

Every page is read at 1280 px and at 390 px (a phone, as Chromium emulates one): nothing scrolls
sideways, controls lie inside the viewport and are big enough to hit, the burn-up chart's labels lie
inside its viewBox, the overview leads with the projects and asks for ratings in one section, Trello
cards are named by their names, no "0 of 0 done" row shows, and axe-core finds no serious or
critical accessibility violation.

The browser and axe-core are `tests/support/browser.py`'s: skipped on a machine without them, never
in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from sandbox.server import LoopbackServer
from service.api.app import create_app
from service.domain.enums import FeedbackSubject, ItemKind, StatusCategory
from service.domain.work import WorkItem
from service.portal import portal_router
from service.store.db import transaction
from service.store.items import upsert_work_items
from service.store.orm import CommitmentRow, WorkItemRow
from service.store.report_queries import list_feedback
from service.store.runtime import Store
from tests.service.portal.conftest import TrelloClient, seed_trello_client
from tests.support.api import T0, World, make_settings, seed_world
from tests.support.browser import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    WIDTHS,
    launch_chromium,
    layout_problems,
    new_context,
    require_axe,
    require_chromium,
    serious_accessibility_violations,
)
from tests.support.fakes import RecordingEnqueuer

LONG_TITLE = "Supercalifragilisticexpialidocious" * 3
# The smallest chart label a reader is expected to read, in CSS px.
MIN_LABEL_PX = 11

# Each chart label: inside the viewBox (else the browser clips it), inside the drawn chart, and
# its size as drawn in CSS px; then any two dates that overlap.
CHART_LABELS = """
(svg) => {
  const view = svg.viewBox.baseVal;
  const drawn = svg.getBoundingClientRect();
  const scale = drawn.width / view.width;
  const labels = [...svg.querySelectorAll('text')].map((text) => {
    const box = text.getBBox();
    const shown = text.getBoundingClientRect();
    return {
      label: text.textContent,
      date: text.classList.contains('x-label'),
      inViewBox: box.x >= view.x && box.y >= view.y
        && box.x + box.width <= view.x + view.width && box.y + box.height <= view.y + view.height,
      inChart: shown.left >= drawn.left - 0.5 && shown.right <= drawn.right + 0.5
        && shown.top >= drawn.top - 0.5 && shown.bottom <= drawn.bottom + 0.5,
      px: parseFloat(getComputedStyle(text).fontSize) * scale,
      left: shown.left, right: shown.right,
    };
  });
  return labels;
}
"""


@dataclass
class Served:
    base_url: str
    store: Store
    world: World
    trello: TrelloClient


def add_long_named_promise(store: Store, world: World) -> None:
    """A promise on an ACME item whose title is one long word, which must wrap, not widen the page."""
    item = WorkItem(
        source_id=world.source_id,
        project_external_id="ACME",
        external_id="x-ACME-5",
        key="ACME-5",
        title=LONG_TITLE,
        kind=ItemKind.STORY,
        status="In Progress",
        status_category=StatusCategory.IN_PROGRESS,
        created_at=T0,
        updated_at=T0,
    )
    with transaction(store.sessions) as session:
        upsert_work_items(session, source_id=world.source_id, items=[item])
        item_id = session.scalars(select(WorkItemRow.id).where(WorkItemRow.key == "ACME-5")).one()
        session.add(
            CommitmentRow(
                subject="item",
                subject_id=item_id,
                baseline_date=date(2026, 9, 10),
                current_date=date(2026, 9, 10),
                promised_at=T0,
            )
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_chromium()
    require_axe()
    settings = make_settings(tmp_path_factory.mktemp("browser"))
    app = create_app(settings, enqueuer=RecordingEnqueuer(), extra_routers=[portal_router()])
    with LoopbackServer(app, lifespan=True) as server:
        store: Store = app.state.store
        world = seed_world(store)
        add_long_named_promise(store, world)
        yield Served(base_url=server.base_url, store=store, world=world, trello=seed_trello_client(store))


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


def _sign_in(page: Page, base_url: str, token: str) -> None:
    page.goto(f"{base_url}/portal")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()


def _assert_readable(page: Page) -> None:
    assert layout_problems(page) == [], page.url
    assert serious_accessibility_violations(page) == [], page.url
    main = page.inner_text("main")
    assert "0 of 0 done" not in main


def _assert_chart_labels_fit(page: Page) -> None:
    labels: list[dict[str, Any]] = page.locator("svg.burnup").evaluate(CHART_LABELS)
    assert labels, "the chart has axis labels"
    for label in labels:
        assert label["inViewBox"], f"{label['label']!r} reaches past the viewBox on {page.url}"
        assert label["inChart"], f"{label['label']!r} is drawn outside the chart on {page.url}"
        assert label["px"] >= MIN_LABEL_PX, f"{label['label']!r} is drawn at {label['px']:.1f}px"
    dates = sorted((label for label in labels if label["date"]), key=lambda label: label["left"])
    assert dates, "the chart has dates"
    for before, after in pairwise(dates):
        assert before["right"] <= after["left"], f"{before['label']} overlaps {after['label']}"


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}-{width}.png"), full_page=True)


def test_portal_pages_fit_the_screen_with_usable_controls(served: Served, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(f"{served.base_url}/portal/sign-in")
    _assert_readable(page)
    _sign_in(page, served.base_url, served.world.tokens["acme"])

    _assert_readable(page)
    _screenshot(page, "overview")
    page.goto(f"{served.base_url}/portal/projects/{served.world.projects['ACME']}")
    expect(page.get_by_role("rowheader", name=f"ACME-5 {LONG_TITLE}")).to_be_visible()
    _assert_readable(page)
    _assert_chart_labels_fit(page)
    _screenshot(page, "project")
    page.goto(f"{served.base_url}/portal/rate?subject=milestone&id={served.world.milestones['ACME']}")
    _assert_readable(page)


def test_portal_overview_leads_with_projects_and_asks_for_ratings_in_one_section(
    served: Served, context: BrowserContext
) -> None:
    page = context.new_page()
    _sign_in(page, served.base_url, served.trello.token)

    expect(page.locator("main h2").first).to_have_text(page.locator("ul.projects h2").first.inner_text())
    projects = page.locator("ul.projects").bounding_box()
    feedback = page.locator("#feedback").bounding_box()
    assert projects is not None
    assert feedback is not None
    assert projects["y"] + projects["height"] <= feedback["y"]
    asks = page.locator("#feedback details.ask")
    assert asks.count() >= 2, "the cards' slipped promises and the weekly question"
    assert (
        page.locator("form.rating").count() == page.locator("#feedback form.rating").count() == asks.count()
    )
    assert page.locator("#feedback details[open]").count() == 0
    for form in page.locator("form.rating").all():
        expect(form).to_be_hidden()
    _assert_readable(page)


def test_portal_trello_pages_name_cards_chart_fits_and_show_no_empty_rows(
    served: Served, context: BrowserContext
) -> None:
    trello = served.trello
    page = context.new_page()
    _sign_in(page, served.base_url, trello.token)
    texts = [page.inner_text("main")]
    _screenshot(page, "trello-overview")

    for project_id in trello.projects.values():
        page.goto(f"{served.base_url}/portal/projects/{project_id}")
        _assert_readable(page)
        _assert_chart_labels_fit(page)
        texts.append(page.inner_text("main"))
    _screenshot(page, "trello-project")

    for text in texts:
        assert trello.card_keys_in(text) == []
    shown = "\n".join(texts)
    assert sum(title in shown for title in trello.titles.values()) >= 3


def test_portal_phone_rates_a_slipped_card_promise_by_touch(served: Served, chromium: Browser) -> None:
    trello = served.trello
    context = new_context(chromium, PHONE)
    try:
        page = context.new_page()
        _sign_in(page, served.base_url, trello.token)
        ask = page.locator("#feedback details.ask", has=page.get_by_text("A date we promised moved")).first
        question = ask.locator("summary").inner_text()
        assert trello.card_keys_in(question) == []
        assert any(title in question for title in trello.titles.values())

        ask.locator("summary").tap()
        ask.get_by_label("4 Happy").tap()
        ask.get_by_label("Anything you want to tell us?").fill("Thanks for warning us early")
        ask.get_by_role("button", name="Send rating").tap()

        expect(page.get_by_text("your rating was recorded")).to_be_visible()
        _assert_readable(page)
    finally:
        context.close()

    with served.store.sessions() as session:
        recorded = list_feedback(session, client_id=trello.client_id, limit=5)
    assert [(f.subject, f.rating, f.comment) for f in recorded] == [
        (FeedbackSubject.EVENT, 4, "Thanks for warning us early")
    ]


def test_portal_in_browser_signs_in_sees_own_projects_and_records_feedback(
    served: Served, chromium: Browser
) -> None:
    world = served.world
    context = new_context(chromium, DESKTOP)
    try:
        page = context.new_page()
        _sign_in(page, served.base_url, world.tokens["acme"])

        assert "token" not in page.url
        projects = page.locator("ul.projects h2").all_inner_texts()
        assert sorted(name.split(" ")[0] for name in projects) == ["ACME", "SHARED"]
        session = next(c for c in context.cookies() if c["name"] == "pmb_portal")
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Lax"

        ask = page.locator("#feedback details.ask", has=page.get_by_text("How are we doing overall"))
        ask.locator("summary").click()
        ask.get_by_label("4 Happy").check()
        ask.get_by_label("Anything you want to tell us?").fill("Clear weekly updates, thank you")
        ask.get_by_role("button", name="Send rating").click()

        expect(page.get_by_text("your rating was recorded")).to_be_visible()
        expect(page.get_by_text("Clear weekly updates, thank you")).to_be_visible()
    finally:
        context.close()

    with served.store.sessions() as session:
        recorded = list_feedback(session, client_id=world.clients["acme"], limit=5)
    assert [(f.rating, f.comment) for f in recorded] == [(4, "Clear weekly updates, thank you")]
