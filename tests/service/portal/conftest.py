"""A portal over the API tests' small agency: three clients, each signed in through the form; and a
client of Trello boards synced from the sandbox and evaluated, as pmbridge runs them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.api.app import create_app
from service.domain.enums import ScopeRule
from service.flags.run import evaluate_projects
from service.portal import portal_router
from service.store.db import transaction
from service.store.orm import FeedEventRow, ProjectRow, WorkItemRow
from service.store.runtime import Store
from service.store.tenancy import add_client, add_scope, issue_token
from service.sync.runs import sync_source_now
from service.web.forms import SignInLimits
from tests.support.api import World, make_settings, seed_world
from tests.support.fakes import RecordingEnqueuer
from tests.support.trello_sandbox import serve_trello_sandbox

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Portal:
    app: FastAPI
    store: Store
    world: World
    trello: TrelloClient

    def browser(self) -> TestClient:
        """A fresh cookie jar on the running app (the lifespan is run once, by the fixture)."""
        return TestClient(self.app, follow_redirects=False)


@dataclass(frozen=True)
class TrelloClient:
    """A client of every board of the sandbox's Trello workspace."""

    token: str
    client_id: int
    projects: dict[str, int]  # board shortLink → project id
    titles: dict[str, str]  # card key → card name, for every card synced

    def card_keys_in(self, text: str) -> list[str]:
        """Card keys or board shortLinks `text` shows: ids people never read."""
        pattern = re.compile(rf"(?<![\w-])({'|'.join(map(re.escape, self.projects))})(-\d+)?(?![\w-])")
        return [found.group(0) for found in pattern.finditer(text)]


def seed_trello_client(store: Store) -> TrelloClient:
    """Syncs the sandbox's Trello boards, then evaluates them for a client scoped to all of them:
    its promises and feed events are the ones pmbridge derives from the cards' history."""
    with serve_trello_sandbox("tiny", seed=7) as trello:
        source_id = trello.add_source(store)
        assert sync_source_now(store, source_id=source_id, full=True).status == "succeeded"
        now = trello.sandbox.clock.now()
        with transaction(store.sessions) as session:
            projects = dict(
                session.execute(
                    select(ProjectRow.key, ProjectRow.id).where(ProjectRow.source_id == source_id)
                ).all()
            )
            titles = dict(
                session.execute(
                    select(WorkItemRow.key, WorkItemRow.title).where(WorkItemRow.source_id == source_id)
                ).all()
            )
            client = add_client(session, name="Borealis", now=now)
            assert client.id is not None
            for project_id in projects.values():
                add_scope(session, client_id=client.id, project_id=project_id, rule=ScopeRule.ALL, value=None)
            issued = issue_token(
                session, client_id=client.id, is_admin=False, name="b", expires_at=None, now=now
            )
        evaluate_projects(store, now=now, rules_dir=None, source_id=source_id)
    return TrelloClient(token=issued.secret, client_id=client.id, projects=projects, titles=titles)


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
        yield Portal(app=app, store=store, world=world, trello=seed_trello_client(store))
