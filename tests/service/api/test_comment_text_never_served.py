"""A comment's text reaches no client and no table: comments made on the sandbox's Jira issues and
Trello cards, learned through incremental syncs and webhook deliveries alike, count as activity,
while their words appear in no /v1 route, the Atom feed, the digest, any portal page a signed-in
client can reach or any console page the operator can, and in no column of any table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sandbox.app import create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer
from sandbox.trello.models import Webhook
from service.api.app import create_app
from service.console import console_router
from service.domain.enums import ActivityKind, ScopeRule, SourceKind
from service.flags.run import evaluate_projects
from service.portal import portal_router
from service.store.activity import list_project_activity
from service.store.db import transaction
from service.store.orm import Base, InboxRow, ProjectRow
from service.store.runtime import Store
from service.store.tenancy import add_client, add_scope, issue_token
from service.sync.deliveries import process_delivery_now
from service.sync.runs import sync_source_now
from tests.support.api import bearer, make_settings, store_of
from tests.support.fakes import RecordingEnqueuer
from tests.support.sources import add_test_source
from tests.support.trello_sandbox import TrelloSandbox

PUBLIC_URL = "http://pmbridge.invalid"
# Words no view of pmbridge has any other reason to show.
SYNCED = "Quartzite margin figures synced"
DELIVERED = "Quartzite margin figures delivered"
EDITED = "Quartzite margin figures edited"
WORDS = ("Quartzite", "margin figures")
# How many console pages the crawl reads at most (every flag has one).
CONSOLE_PAGES = 150
# The /v1 routes' path parameters, and the list route whose rows name them.
LISTED_BY = {
    "project_id": "/v1/projects",
    "milestone_id": "/v1/milestones",
    "commitment_id": "/v1/commitments",
}


@dataclass
class Agency:
    api: TestClient
    store: Store
    sandbox: TrelloSandbox
    token: str
    jira_source: int
    trello_source: int
    # Ids of the comments made here: Jira comment ids and Trello commentCard action ids.
    comments: set[str] = field(default_factory=set)


def control(
    sandbox: TrelloSandbox, method: str, path: str, body: dict[str, object] | None = None
) -> dict[str, object]:
    response = sandbox.control(method, path, body)
    return response.json() if response.content else {}


@contextmanager
def _serve_both(scenario: str, *, seed: int) -> Iterator[TrelloSandbox]:
    """The sandbox's Jira (every issue of the scenario, so milestones have members) and Trello."""
    sink = CollectingSink()
    built = build_sandbox(scenario, seed=seed, sink=sink)  # type: ignore[arg-type]
    with LoopbackServer(create_sandbox_app(built)) as server:
        built.bind(server.base_url)
        yield TrelloSandbox(sandbox=built, base_url=server.base_url, sink=sink)


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agency]:
    settings = make_settings(tmp_path_factory.mktemp("privacy"), public_url=PUBLIC_URL)
    app = create_app(
        settings, enqueuer=RecordingEnqueuer(), extra_routers=[portal_router(), console_router()]
    )
    with _serve_both("tiny", seed=11) as sandbox, TestClient(app) as api:
        store = store_of(api)
        built = sandbox.sandbox
        jira_source = add_test_source(
            store,
            kind=SourceKind.JIRA_CLOUD,
            name="sandbox-jira",
            webhook_secret=built.jira_webhook_secret,
            base_url=sandbox.base_url,
            credentials={"email": built.jira_email, "api_token": built.jira_api_token},
        )
        trello_source = sandbox.add_source(store)
        for source_id in (jira_source, trello_source):
            sync_source_now(store, source_id=source_id, full=True)
        control(sandbox, "POST", "/jira/webhooks", {"url": f"{PUBLIC_URL}/webhooks/jira/{jira_source}"})
        world = sandbox.world
        with world.lock:
            for board_id in world.boards:
                hook = Webhook(
                    world.new_id(),
                    built.trello_token,
                    board_id,
                    f"{PUBLIC_URL}/webhooks/trello/{trello_source}",
                )
                world.webhooks[hook.id] = hook
        now = datetime.now(UTC)
        with transaction(store.sessions) as session:
            client = add_client(session, name="Initech", now=now)
            assert client.id is not None
            for project_id in session.scalars(select(ProjectRow.id)):
                add_scope(session, client_id=client.id, project_id=project_id, rule=ScopeRule.ALL, value=None)
            token = issue_token(
                session, client_id=client.id, is_admin=False, name="reader", expires_at=None, now=now
            )
        agency = Agency(api, store, sandbox, token.secret, jira_source, trello_source)
        comment_everywhere(agency)
        yield agency


def comment_everywhere(agency: Agency) -> None:
    """Comments learned by sync (before any webhook is registered for them) and by webhook."""
    sandbox, built = agency.sandbox, agency.sandbox.sandbox
    issues = sorted(built.jira.issue_by_key)[:2]
    cards = sorted(sandbox.card_ids(where=lambda card: not card.closed))[:2]
    sandbox.sink.deliveries.clear()
    for key in issues:
        created = control(sandbox, "POST", f"/jira/issues/{key}/comments", {"text": SYNCED})
        control(sandbox, "PATCH", f"/jira/comments/{created['id']}", {"text": EDITED})
        agency.comments.add(str(created["id"]))
    # One issue in progress and a week late, so a flag is raised whatever the world's day holds.
    late = (built.clock.now() - timedelta(days=7)).date().isoformat()
    control(sandbox, "PATCH", f"/jira/issues/{issues[1]}", {"status": "In Progress", "duedate": late})
    for card_id in cards:
        agency.comments.add(_trello_comment(sandbox, card_id, SYNCED))
    sandbox.sink.deliveries.clear()
    for source_id in (agency.jira_source, agency.trello_source):
        sync_source_now(agency.store, source_id=source_id, full=False)
    created = control(sandbox, "POST", f"/jira/issues/{issues[0]}/comments", {"text": DELIVERED})
    agency.comments.add(str(created["id"]))
    agency.comments.add(_trello_comment(sandbox, cards[0], DELIVERED))
    for delivery in sandbox.sink.deliveries:
        path = "/" + delivery.url.split("/", 3)[3]
        response = agency.api.post(path, content=delivery.body, headers=delivery.headers)
        assert response.status_code in (200, 202), response.text
    with agency.store.sessions() as session:
        pending = list(session.scalars(select(InboxRow.id).where(InboxRow.status == "pending")))
    for inbox_id in pending:
        process_delivery_now(agency.store, inbox_id=inbox_id)
    evaluate_projects(agency.store, now=built.clock.now() + timedelta(days=1), rules_dir=None)


def _trello_comment(sandbox: TrelloSandbox, card_id: str, text: str) -> str:
    actions = control(sandbox, "POST", f"/trello/cards/{card_id}/comments", {"text": text})["actions"]
    return str(actions[0]["id"])  # type: ignore[index]


def assert_no_comment_text(where: str, text: str) -> None:
    for word in WORDS:
        assert word not in text, f"{where} shows a comment's text"


def test_the_comments_are_activity(agency: Agency) -> None:
    with agency.store.sessions() as session:
        comments = [
            activity
            for project_id in session.scalars(select(ProjectRow.id))
            for activity in list_project_activity(session, project_id=project_id)
            if activity.kind is ActivityKind.COMMENT
        ]
    # Two Jira comments edited, two Trello comments, then one of each delivered by webhook.
    assert len(agency.comments) == 6
    assert agency.comments <= {c.external_id for c in comments}


def _client_get_routes(api: TestClient) -> list[str]:
    paths = api.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted(
        path for path, operations in paths.items() if path.startswith("/v1/") and "get" in operations
    )


def _ids(api: TestClient, token: str, route: str) -> list[int]:
    body = api.get(route, headers=bearer(token)).json()
    rows = next(value for key, value in body.items() if isinstance(value, list))
    return [row["id"] for row in rows]


def test_no_client_route_shows_a_comments_text(agency: Agency) -> None:
    api, token = agency.api, agency.token
    seen: list[str] = []
    for path in _client_get_routes(api):
        params = re.findall(r"{(\w+)}", path)
        if not params:
            urls = [path]
        else:
            [param] = params
            assert param in LISTED_BY, f"{path}: a new path parameter needs its list route here"
            urls = [path.replace(f"{{{param}}}", str(i)) for i in _ids(api, token, LISTED_BY[param])]
            assert urls, f"nothing listed to fill {path}"
        for url in urls:
            for query in ("", "?format=html") if url == "/v1/digest" else ("",):
                response = api.get(url + query, headers=bearer(token))
                assert response.status_code == 200, (url, response.text)
                assert_no_comment_text(url + query, response.text)
                seen.append(url + query)
    assert {"/v1/feed", "/v1/feed.atom", "/v1/digest", "/v1/digest?format=html", "/v1/kpis"} <= set(seen)
    events = api.get("/v1/feed", params={"limit": 200}, headers=bearer(token)).json()["events"]
    assert events, "the feed has events, so its check means something"


def test_no_portal_page_shows_a_comments_text(agency: Agency) -> None:
    browser = TestClient(agency.api.app, follow_redirects=False)
    form = browser.get("/portal/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None, form.text[:500]
    signed_in = browser.post(
        "/portal/sign-in", data={"csrf": csrf.group(1), "token": agency.token, "next": ""}
    )
    assert signed_in.status_code in (200, 303), signed_in.text
    queue, visited = ["/portal/"], set()
    while queue:
        url = queue.pop()
        if url in visited:
            continue
        visited.add(url)
        response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_no_comment_text(url, response.text)
        for link in re.findall(r'href="(/portal/[^"#]*)"', response.text):
            if "sign-out" not in link and not link.endswith(".css"):
                queue.append(link.replace("&amp;", "&"))
    assert any(url.startswith("/portal/projects/") for url in visited)


def test_no_console_page_shows_a_comments_text(agency: Agency) -> None:
    with transaction(agency.store.sessions) as session:
        admin = issue_token(
            session, client_id=None, is_admin=True, name="ops", expires_at=None, now=datetime.now(UTC)
        )
    browser = TestClient(agency.api.app, follow_redirects=False)
    form = browser.get("/console/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None, form.text[:500]
    signed_in = browser.post(
        "/console/sign-in", data={"csrf": csrf.group(1), "token": admin.secret, "next": ""}
    )
    assert signed_in.status_code == 303, signed_in.text
    queue, visited = ["/console/"], set()
    while queue and len(visited) < CONSOLE_PAGES:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_no_comment_text(url, response.text)
        for link in re.findall(r'href="(/console/[^"#]*)"', response.text):
            if not link.endswith(".css"):
                queue.append(link.replace("&amp;", "&"))
    assert any(re.fullmatch(r"/console/flags/\d+", url) for url in visited)
    assert any(url.endswith("/view") for url in visited)


def test_no_table_holds_a_comments_text(agency: Agency) -> None:
    with agency.store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    assert_no_comment_text(f"{table.name}.{column.name}", text)


def test_the_sandbox_has_the_comments_pmbridge_must_not_keep(agency: Agency) -> None:
    """The other tests' absence checks mean something: the providers do hold these words."""
    world = agency.sandbox.sandbox.jira
    with world.lock:
        texts = [str(c.body) for c in world.comments.values()]
    assert any(EDITED in text for text in texts) and any(DELIVERED in text for text in texts)
    trello = agency.sandbox.world
    with trello.lock:
        comments = [a for feed in trello.board_actions.values() for a in feed if a.type == "commentCard"]
    assert sum(a.data.get("text") in (SYNCED, DELIVERED) for a in comments) == 3
