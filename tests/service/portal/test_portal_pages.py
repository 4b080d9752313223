"""Portal pages as rendered HTML: sign-in, overview, project, feedback, and what never leaks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.domain.enums import MilestoneKind, ScopeRule
from service.domain.work import Milestone, Project
from service.store.db import transaction
from service.store.items import upsert_milestones
from service.store.orm import FeedEventRow
from service.store.projects import upsert_projects
from service.store.report_queries import list_feedback
from service.store.tenancy import add_client, add_scope, issue_token, revoke_token
from tests.service.portal.conftest import Portal, add_slip_event, csrf_of, sign_in
from tests.support.api import CLIENTS


@pytest.fixture
def acme(portal: Portal) -> TestClient:
    browser = portal.browser()
    sign_in(browser, portal.world.tokens["acme"])
    return browser


def test_overview_without_session_redirects_to_sign_in(portal: Portal) -> None:
    response = portal.browser().get("/portal")

    assert response.status_code == 303
    assert response.headers["location"] == "/portal/sign-in"


def test_sign_in_form_posts_token_in_body_with_label(portal: Portal) -> None:
    html = portal.browser().get("/portal/sign-in").text

    assert '<form method="post" action="/portal/sign-in"' in html
    assert '<label for="token">' in html
    assert 'type="password"' in html


def test_sign_in_valid_client_token_sets_http_only_same_site_cookie(portal: Portal) -> None:
    browser = portal.browser()
    form = browser.get("/portal/sign-in")

    response = browser.post(
        "/portal/sign-in", data={"csrf": csrf_of(form.text), "token": portal.world.tokens["acme"]}
    )

    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "pmb_portal=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/portal" in cookie
    assert portal.world.tokens["acme"].lower() not in cookie


@pytest.mark.parametrize(
    ("token_of", "status"),
    [("admin", 401), ("wrong", 401)],
    ids=["admin-token", "unknown-token"],
)
def test_sign_in_non_client_token_refused(portal: Portal, token_of: str, status: int) -> None:
    browser = portal.browser()
    form = browser.get("/portal/sign-in")
    token = portal.world.admin_token if token_of == "admin" else "pmb_not-a-real-token"

    response = browser.post("/portal/sign-in", data={"csrf": csrf_of(form.text), "token": token})

    assert response.status_code == status
    assert "not accepted" in response.text
    assert "pmb_portal=" not in response.headers.get("set-cookie", "")


def test_sign_in_without_form_token_refused(portal: Portal) -> None:
    browser = portal.browser()
    browser.get("/portal/sign-in")

    response = browser.post("/portal/sign-in", data={"csrf": "forged", "token": portal.world.tokens["acme"]})

    assert response.status_code == 403
    assert "pmb_portal=" not in response.headers.get("set-cookie", "")


def test_overview_lists_own_projects_with_milestone_progress(portal: Portal, acme: TestClient) -> None:
    html = acme.get("/portal").text

    assert "ACME web" in html
    assert "SHARED web" in html
    assert "GLOBEX web" not in html
    assert "INITECH web" not in html
    assert re.search(r'<label for="m\d+">ACME 1\.0', html)
    assert '<progress id="p' in html
    assert 'class="badge' in html


def test_project_page_shows_promises_burnup_and_published_risks(portal: Portal, acme: TestClient) -> None:
    html = acme.get(f"/portal/projects/{portal.world.projects['ACME']}").text

    assert "<caption>Dates we promised you" in html
    assert "once, 7 days later in all" in html
    assert "Delivered on time." in html
    assert '<svg class="burnup"' in html
    assert "<polyline" in html
    assert "Risk on ACME (project)" in html
    assert "internal rule message" not in html


def test_project_page_foreign_project_answers_404(portal: Portal, acme: TestClient) -> None:
    response = acme.get(f"/portal/projects/{portal.world.projects['GLOBEX']}")

    assert response.status_code == 404
    assert "GLOBEX" not in response.text


@pytest.mark.parametrize("path", ["/portal/projects/abc", "/portal/projects/0", "/portal/projects/99999999"])
def test_project_page_unknown_id_answers_404(acme: TestClient, path: str) -> None:
    assert acme.get(path).status_code == 404


def test_pages_load_nothing_from_elsewhere(portal: Portal, acme: TestClient) -> None:
    response = acme.get(f"/portal/projects/{portal.world.projects['ACME']}")

    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert not re.search(r'(src|href)="(https?:)?//', response.text)
    assert "<script" not in response.text


def test_stylesheet_served_by_the_portal(portal: Portal) -> None:
    response = portal.browser().get("/portal/static/portal.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_slipped_promise_asks_for_rating_until_rated(portal: Portal, acme: TestClient) -> None:
    world = portal.world
    event_id = add_slip_event(
        portal.store,
        client_id=world.clients["acme"],
        project_id=world.projects["ACME"],
        summary="ACME-2 moved",
    )
    page = acme.get("/portal")
    assert f'name="subject_id" value="{event_id}"' in page.text

    acme.post(
        "/portal/feedback",
        data={"csrf": csrf_of(page.text), "subject": "event", "subject_id": str(event_id), "rating": "2"},
    )

    assert f'name="subject_id" value="{event_id}"' not in acme.get("/portal").text


def test_feedback_valid_form_recorded_and_shown(portal: Portal) -> None:
    browser = portal.browser()
    sign_in(browser, portal.world.tokens["initech"])
    page = browser.get("/portal")

    response = browser.post(
        "/portal/feedback",
        data={
            "csrf": csrf_of(page.text),
            "subject": "period",
            "rating": "5",
            "comment": "Great sprint",
            "return_to": "/portal",
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/portal?feedback=recorded"
    html = browser.get(response.headers["location"]).text
    assert "your rating was recorded" in html
    assert "Great sprint" in html
    with portal.store.sessions() as session:
        recorded = list_feedback(session, client_id=portal.world.clients["initech"], limit=10)
    assert [(f.subject.value, f.rating, f.comment) for f in recorded] == [("period", 5, "Great sprint")]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"csrf": "", "subject": "period", "rating": "3"}, 403),
        ({"subject": "period", "rating": "9"}, 400),
        ({"subject": "period", "rating": "x"}, 400),
        ({"subject": "item", "rating": "3"}, 400),
        ({"subject": "milestone", "subject_id": "{globex_milestone}", "rating": "3"}, 404),
        # A form holding a NUL character is read as empty, on both databases: nothing of it is kept.
        ({"subject": "period", "rating": "3", "comment": "a\u0000b"}, 403),
    ],
    ids=["no-csrf", "rating-too-high", "rating-not-a-number", "unknown-subject", "foreign-milestone", "nul"],
)
def test_feedback_invalid_form_refused_and_nothing_recorded(
    portal: Portal, fields: dict[str, str], status: int
) -> None:
    browser = portal.browser()
    sign_in(browser, portal.world.tokens["acme"])
    csrf = csrf_of(browser.get("/portal").text)
    data = {"csrf": csrf, **fields}
    data = {k: v.format(globex_milestone=portal.world.milestones["GLOBEX"]) for k, v in data.items()}
    with portal.store.sessions() as session:
        before = len(list_feedback(session, client_id=portal.world.clients["acme"], limit=100))

    response = browser.post("/portal/feedback", data=data)

    assert response.status_code == status
    with portal.store.sessions() as session:
        assert len(list_feedback(session, client_id=portal.world.clients["acme"], limit=100)) == before


def test_feedback_from_another_origin_refused(portal: Portal, acme: TestClient) -> None:
    csrf = csrf_of(acme.get("/portal").text)

    response = acme.post(
        "/portal/feedback",
        data={"csrf": csrf, "subject": "period", "rating": "1"},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403


def test_rate_page_for_own_milestone_shows_form(portal: Portal, acme: TestClient) -> None:
    response = acme.get(f"/portal/rate?subject=milestone&id={portal.world.milestones['ACME']}")

    assert response.status_code == 200
    assert "How satisfied are you with ACME 1.0?" in response.text


def test_rate_page_signed_out_returns_there_after_sign_in(portal: Portal) -> None:
    milestone = portal.world.milestones["ACME"]
    browser = portal.browser()

    response = browser.get(f"/portal/rate?subject=milestone&id={milestone}")

    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"/portal/sign-in?next=/portal/rate?subject=milestone%26id={milestone}"
    )
    form = browser.get(response.headers["location"]).text
    assert f'name="next" value="/portal/rate?subject=milestone&amp;id={milestone}"' in form


def test_sign_out_clears_the_session_cookie(acme: TestClient) -> None:
    csrf = csrf_of(acme.get("/portal").text)

    response = acme.post("/portal/sign-out", data={"csrf": csrf})

    assert response.status_code == 303
    assert 'pmb_portal=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    assert acme.get("/portal").status_code == 303


def test_revoked_token_ends_its_portal_session_at_once(portal: Portal) -> None:
    browser = portal.browser()
    world = portal.world
    with transaction(portal.store.sessions) as session:
        issued = issue_token(
            session,
            client_id=world.clients["globex"],
            is_admin=False,
            name="short",
            expires_at=None,
            now=datetime.now(UTC),
        )
    sign_in(browser, issued.secret)
    assert browser.get("/portal").status_code == 200
    assert issued.token.id is not None
    with transaction(portal.store.sessions) as session:
        revoke_token(session, token_id=issued.token.id, now=datetime.now(UTC))

    assert browser.get("/portal").status_code == 303


@pytest.mark.parametrize("viewer", CLIENTS, ids=CLIENTS)
@pytest.mark.parametrize("owner", CLIENTS, ids=CLIENTS)
def test_cookie_of_one_client_never_shows_another_clients_data(
    portal: Portal, viewer: str, owner: str
) -> None:
    world = portal.world
    browser = portal.browser()
    sign_in(browser, world.tokens[viewer])
    own_only = world.visible_projects[owner] - world.visible_projects[viewer]

    overview = browser.get("/portal").text
    pages = [browser.get(f"/portal/projects/{world.projects[key]}") for key in sorted(own_only)]

    assert f"Signed in as <strong>{viewer}</strong>" in overview
    for key in own_only:
        assert f"{key} web" not in overview
        assert f"{owner} {key}" not in overview
    assert all(page.status_code == 404 for page in pages)
    for key in world.visible_projects[owner]:
        if owner != viewer:
            assert f"{owner} {key} 0" not in overview


def test_tampered_session_cookie_is_no_session(portal: Portal) -> None:
    browser = portal.browser()
    cookie = sign_in(browser, portal.world.tokens["acme"])
    browser.cookies.clear()
    forged = ("B" if cookie[0] != "B" else "C") + cookie[1:]
    browser.cookies.set("pmb_portal", forged, path="/portal")

    assert browser.get("/portal").status_code == 303


def _text(html: str) -> str:
    """What a reader sees of `html`: no tags, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start : html.index("</section>", start)]


def test_overview_leads_with_projects_then_updates_then_feedback(acme: TestClient) -> None:
    html = acme.get("/portal").text

    headings = [_text(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html)]
    assert headings == ["ACME web ACME", "SHARED web SHARED", "Recent updates", "Your feedback"]


def test_overview_folds_every_rating_request_into_the_feedback_section(
    portal: Portal, acme: TestClient
) -> None:
    event_id = add_slip_event(
        portal.store,
        client_id=portal.world.clients["acme"],
        project_id=portal.world.projects["ACME"],
        summary="ACME-1 moved",
    )

    html = acme.get("/portal").text

    feedback = _section(html, "rate-heading")
    asks = feedback.count('<details class="ask">')
    assert html.count('class="rating"') == feedback.count('class="rating"') == asks
    assert asks >= 2, "the slipped promise and the weekly question"
    assert f'name="subject_id" value="{event_id}"' in feedback
    assert "<summary>How are we doing overall this week?</summary>" in feedback
    assert "pulses-heading" not in html


def test_milestone_without_items_of_the_client_is_left_out(portal: Portal, acme: TestClient) -> None:
    world = portal.world
    with transaction(portal.store.sessions) as session:
        upsert_milestones(
            session,
            source_id=world.source_id,
            milestones=[
                Milestone(
                    source_id=world.source_id,
                    project_external_id="ACME",
                    external_id="m-ACME-empty",
                    name="ACME 2.0 with nothing in it",
                    kind=MilestoneKind.VERSION,
                )
            ],
        )

    for path in ("/portal", f"/portal/projects/{world.projects['ACME']}"):
        html = acme.get(path).text
        assert "ACME 1.0" in html
        assert "ACME 2.0 with nothing in it" not in html
        assert "0 of 0 done" not in html


def test_project_without_items_says_so_instead_of_an_empty_bar(portal: Portal) -> None:
    world = portal.world
    now = datetime.now(UTC)
    with transaction(portal.store.sessions) as session:
        ids = upsert_projects(
            session,
            projects=[Project(source_id=world.source_id, external_id="EMPTY", key="EMPTY", name="EMPTY web")],
        )
        client = add_client(session, name="empty-client", now=now)
        assert client.id is not None
        add_scope(session, client_id=client.id, project_id=ids["EMPTY"], rule=ScopeRule.ALL, value=None)
        token = issue_token(session, client_id=client.id, is_admin=False, name="e", expires_at=None, now=now)
    browser = portal.browser()
    sign_in(browser, token.secret)

    for path in ("/portal", f"/portal/projects/{ids['EMPTY']}"):
        text = _text(browser.get(path).text)
        assert "EMPTY web" in text
        assert "No work items yet." in text
        assert "0 of 0 done" not in text


@pytest.fixture
def borealis(portal: Portal) -> TestClient:
    browser = portal.browser()
    sign_in(browser, portal.trello.token)
    return browser


def test_trello_pages_name_cards_and_boards_by_name_never_by_key(
    portal: Portal, borealis: TestClient
) -> None:
    trello = portal.trello
    pages = [borealis.get("/portal").text] + [
        borealis.get(f"/portal/projects/{project_id}").text for project_id in trello.projects.values()
    ]

    for html in pages:
        assert trello.card_keys_in(_text(html)) == []
        assert "0 of 0 done" not in html
    shown_events = [_text(e) for html in pages for e in re.findall(r"<li><time>.*?</li>", html)]
    assert any(title in event for event in shown_events for title in trello.titles.values())
    promised = [
        _text(row) for html in pages[1:] for row in re.findall(r'<th scope="row"[^>]*>(.*?)</th>', html)
    ]
    assert promised, "the boards' cards carry promised dates"
    assert set(promised) <= set(trello.titles.values())


def test_trello_slipped_promise_rating_names_the_card(portal: Portal, borealis: TestClient) -> None:
    with portal.store.sessions() as session:
        moved = session.scalars(
            select(FeedEventRow).where(
                FeedEventRow.client_id == portal.trello.client_id, FeedEventRow.kind == "commitment_moved"
            )
        ).first()
    assert moved is not None
    key = moved.summary.split(":")[0]

    html = borealis.get(f"/portal/rate?subject=event&id={moved.id}").text

    assert f"A date we promised moved: {portal.trello.titles[key]}: promised date moved" in _text(html)
    assert portal.trello.card_keys_in(_text(html)) == []


def test_jira_pages_keep_issue_and_project_keys(portal: Portal, acme: TestClient) -> None:
    text = _text(acme.get(f"/portal/projects/{portal.world.projects['ACME']}").text)

    assert "ACME web ACME" in text
    assert "ACME-2 Title of ACME-2" in text
