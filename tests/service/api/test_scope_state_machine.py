"""A Hypothesis state machine over sandbox changes and scope changes: whatever issues are created,
closed, reopened, relabelled, moved between versions, given components or hidden, and however
clients' scopes come and change, each client's numbers agree across `/v1/projects`, the feed's
latest milestone events, the digest and the portal, and nothing outside its scope shows in any of
its views (no key or title of an item it does not see, no name of a milestone or project it does
not see).

Issues change in the Jira sandbox and come in through an incremental sync, then the projects are
evaluated, as the worker does after a sync; components (the sandbox serves none) and hiding (a
census or a lost permission) are written to the store the way the sync writes them. Scopes change
through the admin API. What each client should see is worked out here, in Python, from the stored
items and the scopes the machine gave: an oracle independent of the SQL that filters the views.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.jira.changes import IssueChanges
from sandbox.jira.model import Issue
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer
from service.api.app import create_app
from service.domain.enums import DigestPeriod, ScopeRule, SourceKind, StatusCategory, Visibility
from service.domain.work import Milestone, WorkItem
from service.feed.digest import build_digest
from service.feed.digest_render import render_markdown
from service.flags.run import evaluate_projects
from service.portal import portal_router
from service.store.client_views import read_grants
from service.store.db import transaction
from service.store.items import (
    find_work_item,
    list_project_items,
    list_project_milestones,
    mark_items_visibility,
    upsert_work_items,
)
from service.store.projects import list_projects
from service.store.runtime import Store
from service.store.scope_filter import FilterField, FilterTerm, parse_scope_filter
from service.store.tenancy import issue_token
from service.sync.runs import sync_source_now
from service.web.client_pages import build_overview
from service.web.forms import SignInLimits
from tests.support.api import bearer, make_settings, store_of
from tests.support.fakes import RecordingEnqueuer
from tests.support.sources import add_test_source

FROZEN = datetime(2026, 11, 2, 10, 0, 30, tzinfo=UTC)
STATUSES = ("To Do", "In Progress", "In Review", "Done")
LABELS = ("client-request", "frontend", "ux", "quick-win", "internal")
COMPONENTS = ("web", "api")
SCOPES: Sequence[tuple[ScopeRule, str | None]] = (
    (ScopeRule.ALL, None),
    (ScopeRule.LABEL, "client-request"),
    (ScopeRule.LABEL, "frontend"),
    (ScopeRule.COMPONENT, "web"),
    (ScopeRule.PARENT, "ACM-1"),
    (ScopeRule.FILTER, "label:client-request,ux -kind:bug"),
    (ScopeRule.FILTER, "category:done,in_progress -label:internal"),
    (ScopeRule.FILTER, 'component:api status:"In Progress","To Do"'),
    (ScopeRule.FILTER, "kind:story,task label:frontend,quick-win,client-request"),
)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class SandboxSwitch:
    """The ASGI app of the module's loopback server: the sandbox of the example being run, so each
    example starts from the same fresh world (and Hypothesis can replay one to shrink it)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        await self.app(scope, receive, send)


@dataclass
class ScopeApp:
    """The API and portal over one store, and the loopback server each example's sandbox is at."""

    app_client: TestClient
    store: Store
    admin: dict[str, str]
    sandbox_url: str
    switch: SandboxSwitch
    sources: Iterator[int]


@pytest.fixture(scope="module")
def scope_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScopeApp]:
    switch = SandboxSwitch()
    with LoopbackServer(switch) as server:
        settings_ = make_settings(tmp_path_factory.mktemp("scope-machine"))
        app = create_app(settings_, enqueuer=RecordingEnqueuer(), extra_routers=[portal_router()])
        with TestClient(app) as app_client:
            app.state.portal_sign_in_limits = SignInLimits(address_burst=10_000, prefix_burst=10_000)
            store = store_of(app_client)
            with transaction(store.sessions) as session:
                admin = issue_token(
                    session, client_id=None, is_admin=True, name="ops", expires_at=None, now=FROZEN
                )
            yield ScopeApp(
                app_client=app_client,
                store=store,
                admin=bearer(admin.secret),
                sandbox_url=server.base_url,
                switch=switch,
                sources=itertools.count(),
            )


@dataclass
class ScopeWorld:
    """One example's world: a fresh sandbox, synced into a source of its own and evaluated."""

    app: ScopeApp
    sandbox: Sandbox
    source_id: int
    # project key -> store id, and the store id of each project's external id
    projects: dict[str, int]
    project_of_external: dict[str, int]

    @classmethod
    def fresh(cls, app: ScopeApp) -> ScopeWorld:
        sandbox = build_sandbox("tiny", seed=7, now=FROZEN, sink=CollectingSink(), with_trello=False)
        sandbox.bind(app.sandbox_url)
        app.switch.app = create_sandbox_app(sandbox)
        source_id = add_test_source(
            app.store,
            kind=SourceKind.JIRA_CLOUD,
            name=f"sandbox-{next(app.sources)}",
            webhook_secret=None,
            base_url=app.sandbox_url,
            credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
        )
        sync_source_now(app.store, source_id=source_id, full=True)
        with app.store.sessions() as session:
            projects = [p for p in list_projects(session, source_id=source_id) if p.id is not None]
        world = cls(
            app=app,
            sandbox=sandbox,
            source_id=source_id,
            projects={p.key: p.id for p in projects if p.id is not None},
            project_of_external={p.external_id: p.id for p in projects if p.id is not None},
        )
        world.evaluate()
        return world

    @property
    def store(self) -> Store:
        return self.app.store

    def sync_and_evaluate(self) -> None:
        """What the worker does after a change: an incremental sync, then the projects evaluated."""
        sync_source_now(self.store, source_id=self.source_id, full=False)
        self.evaluate()

    def evaluate(self) -> None:
        evaluate_projects(self.store, now=self.sandbox.clock.now(), rules_dir=None, source_id=self.source_id)


# The oracle: what a client should see, from the stored items and its scopes.


@dataclass(frozen=True)
class Stored:
    items: list[WorkItem]  # every item of the source, whatever its visibility
    milestones: dict[int, Milestone]
    members: dict[int, set[int]]  # milestone id -> ids of the items in it
    project_names: dict[int, str]

    def item_by_ref(self) -> dict[str, WorkItem]:
        return {ref: item for item in self.items for ref in (item.key, item.external_id)}


def read_stored(world: ScopeWorld) -> Stored:
    items: list[WorkItem] = []
    milestones: dict[int, Milestone] = {}
    with world.store.sessions() as session:
        names = {p.id: p.name for p in list_projects(session, source_id=world.source_id) if p.id is not None}
        for project_id in world.projects.values():
            items += list_project_items(session, project_id=project_id, visible_only=False)
            milestones.update(
                {m.id: m for m in list_project_milestones(session, project_id=project_id) if m.id is not None}
            )
    by_external = {(m.project_external_id, m.external_id): m_id for m_id, m in milestones.items()}
    members: dict[int, set[int]] = {m_id: set() for m_id in milestones}
    for item in items:
        for external_id in item.milestone_external_ids:
            found = by_external.get((item.project_external_id, external_id))
            if found is not None and item.id is not None:
                members[found].add(item.id)
    return Stored(items=items, milestones=milestones, members=members, project_names=names)


def _under(item: WorkItem, values: Sequence[str], refs: dict[str, WorkItem]) -> bool:
    if item.key in values or item.external_id in values:
        return True
    parent = refs.get(item.parent_external_id or "")
    return (
        parent is not None
        and parent.external_id == item.parent_external_id
        and (parent.key in values or parent.external_id in values)
    )


def _term(term: FilterTerm, item: WorkItem, refs: dict[str, WorkItem]) -> bool:
    values = term.values
    found = {
        FilterField.LABEL: lambda: any(v in item.labels for v in values),
        FilterField.COMPONENT: lambda: any(v in item.components for v in values),
        FilterField.PARENT: lambda: _under(item, values, refs),
        FilterField.KIND: lambda: item.kind.value in values,
        FilterField.CATEGORY: lambda: item.status_category.value in values,
        FilterField.PRIORITY: lambda: item.priority.value in values,
        FilterField.STATUS: lambda: item.status.lower() in {v.lower() for v in values},
    }[term.field]()
    return found != term.negated


def selects(rule: ScopeRule, value: str | None, item: WorkItem, refs: dict[str, WorkItem]) -> bool:
    text = value or ""
    if rule is ScopeRule.ALL:
        return True
    if rule is ScopeRule.LABEL:
        return text in item.labels
    if rule is ScopeRule.COMPONENT:
        return text in item.components
    if rule is ScopeRule.PARENT:
        return _under(item, [text], refs)
    return all(_term(term, item, refs) for term in parse_scope_filter(text))


@dataclass(frozen=True)
class Expected:
    visible: dict[int, WorkItem]
    projects: dict[int, tuple[int, int, int, int]]  # id -> done, total, todo, in progress
    milestones: dict[int, tuple[int, int]]  # id -> done, total over the visible members
    forbidden: list[str]  # keys, titles and names the client must never read


def expected_view(
    world: ScopeWorld, stored: Stored, scopes: dict[int, tuple[int, ScopeRule, str | None]]
) -> Expected:
    refs = stored.item_by_ref()
    visible = {
        item.id: item
        for item in stored.items
        if item.id is not None
        and item.visibility is Visibility.VISIBLE
        and (scope := scopes.get(world.project_of_external[item.project_external_id])) is not None
        and selects(scope[1], scope[2], item, refs)
    }
    projects = {}
    for project_id in scopes:
        counts = Counter(
            i.status_category
            for i in visible.values()
            if world.project_of_external[i.project_external_id] == project_id
        )
        projects[project_id] = (
            counts[StatusCategory.DONE],
            sum(counts.values()),
            counts[StatusCategory.TODO],
            counts[StatusCategory.IN_PROGRESS],
        )
    milestones = {}
    for milestone_id, members in stored.members.items():
        seen = members & visible.keys()
        if seen:
            milestones[milestone_id] = (sum(1 for i in seen if visible[i].is_done), len(seen))
    shown = [
        *(i.title for i in visible.values()),
        *(stored.milestones[m].name for m in milestones),
        *(stored.project_names[p] for p in scopes),
    ]
    shown_text = "\n".join(shown)
    hidden_items = [i for i in stored.items if i.id not in visible]
    forbidden = [i.key for i in hidden_items]
    forbidden += [
        phrase
        for phrase in (
            *(i.title for i in hidden_items),
            *(m.name for m_id, m in stored.milestones.items() if m_id not in milestones),
            *(name for p, name in stored.project_names.items() if p not in scopes),
        )
        if not mentions(shown_text, phrase)
    ]
    return Expected(visible=visible, projects=projects, milestones=milestones, forbidden=forbidden)


def as_words(phrases: Sequence[str]) -> re.Pattern[str]:
    """Any of `phrases` as words of a text (ACM-1 is not in ACM-12), as written or HTML-escaped."""
    written = {form for phrase in phrases for form in (phrase, html_escape(phrase))}
    if not written:
        return re.compile(r"(?!)")
    alternatives = "|".join(re.escape(p) for p in sorted(written, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def mentions(text: str, phrase: str) -> bool:
    return as_words([phrase]).search(text) is not None


def html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# The machine.


def test_every_clients_views_agree_and_hold_only_its_scope(scope_app: ScopeApp) -> None:
    api = scope_app.app_client
    admin = scope_app.admin
    names = itertools.count()

    class Scopes(RuleBasedStateMachine):
        clients = Bundle("clients")

        def __init__(self) -> None:
            super().__init__()
            self.world = ScopeWorld.fresh(scope_app)
            # client id -> project id -> (scope id, rule, value)
            self.scopes: dict[int, dict[int, tuple[int, ScopeRule, str | None]]] = {}
            self.tokens: dict[int, str] = {}
            self.portals: dict[int, TestClient] = {}

        # Clients and their scopes, through the admin API.

        @initialize(target=clients, acm=st.sampled_from(SCOPES), bor=st.sampled_from(SCOPES))
        def first_client(self, acm: tuple[ScopeRule, str | None], bor: tuple[ScopeRule, str | None]) -> int:
            client_id = self._new_client()
            self._give(client_id, "ACM", acm)
            self._give(client_id, "BOR", bor)
            return client_id

        @initialize(target=clients, project=st.sampled_from(["ACM", "BOR"]), scope=st.sampled_from(SCOPES))
        def second_client(self, project: str, scope: tuple[ScopeRule, str | None]) -> int:
            client_id = self._new_client()
            self._give(client_id, project, scope)
            return client_id

        @precondition(lambda self: len(self.tokens) < 3)
        @rule(target=clients)
        def add_client(self) -> int:
            return self._new_client()

        def _new_client(self) -> int:
            name = f"scope-{next(names)}"
            created = api.post("/admin/clients", json={"name": name}, headers=admin)
            assert created.status_code == 201, created.text
            client_id: int = created.json()["id"]
            token = api.post("/admin/tokens", json={"name": "t", "client_id": client_id}, headers=admin)
            assert token.status_code == 201, token.text
            self.scopes[client_id] = {}
            self.tokens[client_id] = token.json()["token"]
            return client_id

        @rule(client_id=clients, project=st.sampled_from(["ACM", "BOR"]), scope=st.sampled_from(SCOPES))
        def give_scope(self, client_id: int, project: str, scope: tuple[ScopeRule, str | None]) -> None:
            self._give(client_id, project, scope)

        def _give(self, client_id: int, project: str, scope: tuple[ScopeRule, str | None]) -> None:
            """A new scope, or a changed one: the old one removed and the new one given."""
            project_id = self.world.projects[project]
            self._take(client_id, project_id)
            rule_, value = scope
            given = api.post(
                f"/admin/clients/{client_id}/scopes",
                json={"project_id": project_id, "rule": rule_.value, "value": value},
                headers=admin,
            )
            assert given.status_code == 201, given.text
            self.scopes[client_id][project_id] = (given.json()["id"], rule_, value)

        @rule(client_id=clients, project=st.sampled_from(["ACM", "BOR"]))
        def take_scope(self, client_id: int, project: str) -> None:
            self._take(client_id, self.world.projects[project])

        def _take(self, client_id: int, project_id: int) -> None:
            found = self.scopes[client_id].pop(project_id, None)
            if found is not None:
                taken = api.delete(f"/admin/clients/{client_id}/scopes/{found[0]}", headers=admin)
                assert taken.status_code == 204, taken.text

        # Issues, changed in the sandbox and synced.

        def _issue(self, index: int) -> Issue:
            issues = sorted(self.world.sandbox.jira.issues.values(), key=lambda issue: issue.id)
            return issues[index % len(issues)]

        def _change(self, issue: Issue, changes: IssueChanges) -> None:
            jira = self.world.sandbox.jira
            self.world.sandbox.clock.advance(timedelta(minutes=1))
            with jira.lock:
                jira.update_issue(issue, changes)
            self.world.sync_and_evaluate()

        @rule(
            project=st.sampled_from(["ACM", "BOR"]),
            labels=st.lists(st.sampled_from(LABELS), max_size=2, unique=True),
            version=st.integers(min_value=0, max_value=3),
            status=st.sampled_from(STATUSES),
        )
        def create_issue(self, project: str, labels: list[str], version: int, status: str) -> None:
            jira = self.world.sandbox.jira
            self.world.sandbox.clock.advance(timedelta(minutes=1))
            with jira.lock:
                target = next(p for p in jira.projects.values() if p.key == project)
                issue = jira.create_issue(target, summary=f"Scope probe {next(names)}", type_name="Story")
            versions = sorted(v.id for v in jira.versions.values() if v.project_id == target.id)
            chosen = (versions[version],) if version < len(versions) else ()
            self._change(issue, IssueChanges(labels=tuple(labels), fix_version_ids=chosen, status=status))

        @rule(index=st.integers(min_value=0, max_value=200), status=st.sampled_from(STATUSES))
        def transition(self, index: int, status: str) -> None:
            """Closes, reopens or starts an issue."""
            self._change(self._issue(index), IssueChanges(status=status))

        @rule(
            index=st.integers(min_value=0, max_value=200),
            labels=st.lists(st.sampled_from(LABELS), max_size=2, unique=True),
        )
        def relabel(self, index: int, labels: list[str]) -> None:
            self._change(self._issue(index), IssueChanges(labels=tuple(labels)))

        @rule(index=st.integers(min_value=0, max_value=200), version=st.integers(min_value=0, max_value=3))
        def move_version(self, index: int, version: int) -> None:
            issue = self._issue(index)
            versions = sorted(
                v.id for v in self.world.sandbox.jira.versions.values() if v.project_id == issue.project_id
            )
            chosen = (versions[version],) if version < len(versions) else ()
            self._change(issue, IssueChanges(fix_version_ids=chosen))

        # Changes the sandbox cannot make, written as the sync writes them.

        @rule(
            index=st.integers(min_value=0, max_value=200),
            components=st.lists(st.sampled_from(COMPONENTS), max_size=2, unique=True),
        )
        def set_components(self, index: int, components: list[str]) -> None:
            issue = self._issue(index)
            with transaction(self.world.store.sessions) as session:
                stored = find_work_item(session, source_id=self.world.source_id, external_id=str(issue.id))
                if stored is None:
                    return
                changed = replace(
                    stored, components=tuple(components), updated_at=stored.updated_at + timedelta(seconds=1)
                )
                upsert_work_items(session, source_id=self.world.source_id, items=[changed])
            self.world.evaluate()

        @rule(index=st.integers(min_value=0, max_value=200))
        def hide(self, index: int) -> None:
            """The provider stops showing the issue (a lost permission, as a census finds it)."""
            with transaction(self.world.store.sessions) as session:
                mark_items_visibility(
                    session,
                    source_id=self.world.source_id,
                    external_ids=[str(self._issue(index).id)],
                    visibility=Visibility.HIDDEN,
                    at=self.world.sandbox.clock.now(),
                )
            self.world.evaluate()

        # What every client reads.

        @invariant()
        def each_client_reads_one_scoped_view(self) -> None:
            if not self.tokens:
                return
            stored = read_stored(self.world)
            for client_id, token in self.tokens.items():
                expected = expected_view(self.world, stored, self.scopes[client_id])
                texts = self._check_api(token, expected)
                texts += self._check_digest_and_portal(client_id, token, expected)
                forbidden = as_words(expected.forbidden)
                for text in texts:
                    leaked = forbidden.findall(text)
                    assert leaked == [], f"client {client_id} reads {leaked} outside its scope"

        def _check_api(self, token: str, expected: Expected) -> list[str]:
            headers = bearer(token)
            projects = api.get("/v1/projects", headers=headers)
            assert projects.status_code == 200, projects.text
            body = projects.json()["projects"]
            assert {
                p["id"]: (
                    p["progress"]["done"],
                    p["progress"]["total"],
                    p["progress"]["todo"],
                    p["progress"]["in_progress"],
                )
                for p in body
            } == expected.projects
            milestones = {
                m["id"]: (m["progress"]["done"], m["progress"]["total"])
                for p in body
                for m in p["milestones"]
            }
            assert milestones == expected.milestones
            events, feed_texts = read_feed(api, headers)
            latest: dict[int, tuple[int, int]] = {}
            for event in events:
                if event["kind"] == "milestone_progress":
                    payload = event["payload"]
                    latest[payload["milestone_id"]] = (payload["done"], payload["total"])
                elif "item" in event["payload"]:
                    assert event["payload"]["item"] in {i.key for i in expected.visible.values()}, event
            assert latest == milestones, "the feed's latest progress is not the progress served"
            reads = [
                api.get(route, headers=headers) for route in ("/v1/commitments", "/v1/kpis", "/v1/feed.atom")
            ]
            assert [r.status_code for r in reads] == [200, 200, 200]
            commitments, kpis = reads[0].json()["commitments"], reads[1].json()
            seen = {"item": set(expected.visible), "milestone": set(milestones)}
            assert all(c["subject_id"] in seen[c["subject"]] for c in commitments), commitments
            schedule = kpis["schedule"]
            told = schedule["commitments_met"] + schedule["commitments_missed"] + schedule["commitments_open"]
            assert told == len(commitments)
            assert {m["id"] for m in kpis["cost"]["by_milestone"]} <= set(milestones)
            assert sum(p["items"] for p in kpis["cost"]["by_project"]) == sum(
                total for _d, total, _t, _i in expected.projects.values()
            )
            return [projects.text, *feed_texts, *(r.text for r in reads)]

        def _check_digest_and_portal(self, client_id: int, token: str, expected: Expected) -> list[str]:
            now = self.world.sandbox.clock.now()
            ending: date = now.date()
            with self.world.store.sessions() as session:
                grants = read_grants(session, client_id=client_id)
                digest = build_digest(
                    session, grants, client_name="c", period=DigestPeriod.MONTH, ending=ending
                )
                overview = build_overview(session, grants, now=now)
            start = datetime.combine(
                ending - timedelta(days=DigestPeriod.MONTH.days - 1), datetime.min.time(), UTC
            )
            until = datetime.combine(ending + timedelta(days=1), datetime.min.time(), UTC)
            assert sorted(d.key for d in digest.done) == sorted(
                i.key
                for i in expected.visible.values()
                if i.is_done and i.resolved_at is not None and start <= i.resolved_at < until
            )
            cards = {c.id: (c.progress.done, c.progress.total) for c in overview.projects if c.progress.total}
            assert cards == {
                p: (done, total) for p, (done, total, _t, _i) in expected.projects.items() if total
            }
            bars = {
                b.id: (b.progress.done, b.progress.total) for c in overview.projects for b in c.milestones
            }
            assert {m: count for m, count in bars.items() if count[1]} == expected.milestones
            portal = self._portal(client_id, token)
            pages = [
                portal.get("/portal/"),
                *(portal.get(f"/portal/projects/{p}") for p in expected.projects),
            ]
            assert [page.status_code for page in pages] == [200] * len(pages)
            # The digest as `/v1/digest` renders the same digest.
            return [render_markdown(digest, base_url=None), *(page.text for page in pages)]

        def _portal(self, client_id: int, token: str) -> TestClient:
            browser = self.portals.get(client_id)
            if browser is None:
                browser = TestClient(api.app, follow_redirects=False)
                form = browser.get("/portal/sign-in")
                found = _CSRF.search(form.text)
                assert found is not None
                signed = browser.post(
                    "/portal/sign-in", data={"csrf": found.group(1), "token": token, "next": ""}
                )
                assert signed.status_code == 303, signed.text
                self.portals[client_id] = browser
            return browser

    # Bounded for CI: 4 examples of 2 clients set up and up to 10 steps, about 15 s of CPU; under
    # CI=true the profile of tests/conftest.py draws the same examples every run.
    run_state_machine_as_test(
        Scopes,
        settings=settings(
            max_examples=4,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def read_feed(api: TestClient, headers: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Every event of the client's feed, page by page, and the pages as read."""
    events: list[dict[str, Any]] = []
    texts: list[str] = []
    cursor: str | None = None
    while True:
        page = api.get(
            "/v1/feed", params={"limit": 200, **({"after": cursor} if cursor else {})}, headers=headers
        )
        assert page.status_code == 200, page.text
        texts.append(page.text)
        body = page.json()
        events += body["events"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return events, texts
