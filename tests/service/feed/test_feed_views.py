"""Every view of a client's events tells the same story: the feed's JSON pages, Atom, subscription
deliveries, the digest and the portal, read through their routes and their delivery job."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.domain.enums import FeedEventKind, ScopeRule, SourceKind
from service.domain.signals import EventDraft
from service.feed.cursor import FeedCursorCodec
from service.feed.subscriptions import deliver_due
from service.flags.run import evaluate_projects
from service.portal import portal_router
from service.store.db import transaction
from service.store.feed_writes import lock_feed_writes, publish_events
from service.store.orm import FlagRow
from service.store.projects import get_project_by_key
from service.store.subscriptions import CREATED_BY_CLIENT, add_subscription
from service.store.tenancy import add_client, add_scope, issue_token
from service.sync.runs import sync_source_now
from tests.service.feed.conftest import Receiver
from tests.service.portal.conftest import sign_in
from tests.support.api import T0, World, bearer, make_settings, seed_world, store_of
from tests.support.fakes import RecordingEnqueuer
from tests.support.jira_sandbox import JiraSandbox
from tests.support.sources import add_test_source

ATOM = {"a": "http://www.w3.org/2005/Atom"}
CODEC = FeedCursorCodec(Fernet.generate_key())


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    """The API with the portal, over a fresh data directory."""
    app = create_app(make_settings(tmp_path), enqueuer=RecordingEnqueuer(), extra_routers=[portal_router()])
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(api: TestClient) -> World:
    return seed_world(store_of(api))


def feed_events(api: TestClient, token: str) -> list[dict[str, object]]:
    response = api.get("/v1/feed", params={"limit": 200}, headers=bearer(token))
    assert response.status_code == 200, response.text
    events: list[dict[str, object]] = response.json()["events"]
    return events


def atom_entries(api: TestClient, token: str) -> list[dict[str, str]]:
    """Each entry's id (the event's), title, category, and its dates, newest first as served."""
    response = api.get("/v1/feed.atom", params={"limit": 200}, headers=bearer(token))
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    entries = []
    for entry in root.findall("a:entry", ATOM):
        category = entry.find("a:category", ATOM)
        assert category is not None
        entries.append(
            {
                "id": (entry.findtext("a:id", namespaces=ATOM) or "").rsplit(":", 1)[-1],
                "title": entry.findtext("a:title", namespaces=ATOM) or "",
                "kind": category.get("term", ""),
                "label": category.get("label", ""),
                "updated": entry.findtext("a:updated", namespaces=ATOM) or "",
                "published": entry.findtext("a:published", namespaces=ATOM) or "",
            }
        )
    return entries


def digest(api: TestClient, token: str, *, ending: date) -> str:
    response = api.get("/v1/digest", params={"ending": ending.isoformat()}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.text


def digest_section(text: str, heading: str) -> list[str]:
    """The lines of one section of the Markdown digest; empty when it has none."""
    found = re.search(rf"^## {heading}\n\n(.*?)(?:\n\n|\Z)", text, flags=re.MULTILINE | re.DOTALL)
    return [] if found is None else [line.removeprefix("- ") for line in found.group(1).splitlines()]


_PORTAL_UPDATE = re.compile(r"<li><time>([^<]*)</time> ([^<]*)</li>")


def portal_page(api: TestClient, token: str, path: str = "/portal") -> str:
    browser = TestClient(api.app, follow_redirects=False)
    sign_in(browser, token)
    response = browser.get(path)
    assert response.status_code == 200, response.text
    return response.text


def portal_updates(api: TestClient, token: str) -> list[tuple[str, str]]:
    """The overview's recent updates as (day, summary), as listed."""
    page = portal_page(api, token)
    updates = page.split('<ol class="events">', 1)[1].split("</ol>", 1)[0]
    return [(day, html.unescape(text)) for day, text in _PORTAL_UPDATE.findall(updates)]


def subscribe(api: TestClient, *, client_id: int, url: str) -> None:
    store = store_of(api)
    with transaction(store.sessions) as session:
        add_subscription(
            session, cipher=store.cipher, client_id=client_id, url=url, created_by=CREATED_BY_CLIENT, now=T0
        )


def delivered(api: TestClient, receiver: Receiver) -> list[dict[str, object]]:
    """Run the delivery job; every event the receiver got so far, in the order it got them."""
    deliver_due(store_of(api), codec=CODEC, now=T0, allow_private=True)
    return [json.loads(r.body)["event"] for r in receiver.received]


# Risks: an operator's publish and withdrawal


def test_publishing_and_withdrawing_a_risk_reach_feed_atom_and_subscribers_in_its_wording_only(
    api: TestClient, world: World, receiver: Receiver
) -> None:
    """SHARED's project-level flag reaches both clients who see SHARED, and no one else."""
    admin, flag_id = bearer(world.admin_token), world.flags["SHARED-unpublished"]
    subscribe(api, client_id=world.clients["globex"], url=receiver.url)
    before = {name: len(feed_events(api, world.tokens[name])) for name in world.tokens}

    steps = [
        api.post(f"/admin/flags/{flag_id}/publish", json={"client_text": "Launch may slip"}, headers=admin),
        api.post(f"/admin/flags/{flag_id}/publish", json={"client_text": "Launch may slip"}, headers=admin),
        api.post(f"/admin/flags/{flag_id}/keep-internal", headers=admin),
        api.post(f"/admin/flags/{flag_id}/keep-internal", headers=admin),
        api.post(
            f"/admin/flags/{flag_id}/publish", json={"client_text": "Launch slips a week"}, headers=admin
        ),
    ]

    assert [step.status_code for step in steps] == [200] * 5
    told = [
        ("risk_raised", "Risk: Launch may slip", {"flag_id": flag_id, "text": "Launch may slip"}),
        ("risk_withdrawn", "Withdrawn: Launch may slip", {"flag_id": flag_id, "text": "Launch may slip"}),
        ("risk_raised", "Risk: Launch slips a week", {"flag_id": flag_id, "text": "Launch slips a week"}),
    ]
    for name in ("acme", "globex"):
        events = feed_events(api, world.tokens[name])[before[name] :]
        assert [(e["kind"], e["summary"], e["payload"]) for e in events] == told
        entries = atom_entries(api, world.tokens[name])[:3]
        assert [(e["id"], e["kind"], e["title"]) for e in entries] == [
            (str(e["id"]), e["kind"], e["summary"]) for e in reversed(events)
        ]
        assert entries[1]["label"] == "Risk withdrawn"
    assert len(feed_events(api, world.tokens["initech"])) == before["initech"]
    pushed = delivered(api, receiver)
    assert [(e["kind"], e["summary"], e["payload"]) for e in pushed] == told
    seen_by_clients = json.dumps([feed_events(api, token) for token in world.tokens.values()]) + json.dumps(
        pushed
    )
    assert "internal rule message" not in seen_by_clients


def test_withdrawing_a_risk_on_an_item_reaches_only_the_clients_who_see_the_item(
    api: TestClient, world: World
) -> None:
    """SHARED-3 is labelled internal: globex sees all of SHARED, acme only its client-labelled items."""
    before = {name: len(feed_events(api, world.tokens[name])) for name in ("acme", "globex")}

    response = api.post(
        f"/admin/flags/{world.flags['SHARED-internal-item']}/keep-internal", headers=bearer(world.admin_token)
    )

    assert response.status_code == 200, response.text
    [withdrawn] = feed_events(api, world.tokens["globex"])[before["globex"] :]
    assert (withdrawn["kind"], withdrawn["summary"]) == (
        "risk_withdrawn",
        "Withdrawn: Risk on SHARED (internal-item)",
    )
    assert len(feed_events(api, world.tokens["acme"])) == before["acme"]


def test_publishing_a_resolved_flag_tells_no_client(api: TestClient, world: World) -> None:
    flag_id = world.flags["ACME-unpublished"]
    with store_of(api).sessions() as session, session.begin():
        session.get_one(FlagRow, flag_id).state = "resolved"
    before = len(feed_events(api, world.tokens["acme"]))

    response = api.post(
        f"/admin/flags/{flag_id}/publish", json={"client_text": "Too late"}, headers=bearer(world.admin_token)
    )

    assert response.status_code == 200, response.text
    assert len(feed_events(api, world.tokens["acme"])) == before


# When: the feed's order for a change learned late


def test_a_change_learned_late_comes_after_in_the_feed_and_takes_its_place_in_timelines(
    api: TestClient, world: World, receiver: Receiver
) -> None:
    """A change that happened four days ago, published after one of yesterday (a sync that back-fills
    history): the feed, Atom and subscriptions list it after, as published, with its true
    occurred_at; the portal and the digest, timelines, put it where it happened."""
    store, project_id = store_of(api), world.projects["INITECH"]
    token, client_id = world.tokens["initech"], world.clients["initech"]
    subscribe(api, client_id=client_id, url=receiver.url)
    today = datetime(2026, 9, 10, 12, 0, tzinfo=UTC)
    yesterday, four_days_ago = today - timedelta(days=1), today - timedelta(days=4)
    page = api.get("/v1/feed", params={"limit": 200}, headers=bearer(token)).json()

    def publish(key: str, occurred_at: datetime, recorded_at: datetime) -> None:
        draft = EventDraft(
            kind=FeedEventKind.ITEM_REOPENED,
            dedupe_key=key,
            summary=f"{key} reopened",
            payload={"item": key},
            occurred_at=occurred_at,
            project_id=project_id,
        )
        with transaction(store.sessions) as session:
            lock_feed_writes(session)
            assert publish_events(session, drafts=[draft], now=recorded_at) == 1

    publish("INITECH-2", yesterday, recorded_at=today - timedelta(hours=2))
    read_first = api.get("/v1/feed", params={"after": page["next_cursor"]}, headers=bearer(token)).json()
    publish("INITECH-1", four_days_ago, recorded_at=today)
    read_later = api.get(
        "/v1/feed", params={"after": read_first["next_cursor"]}, headers=bearer(token)
    ).json()

    [first] = read_first["events"]
    [late] = read_later["events"]
    assert late["id"] > first["id"]
    assert (late["summary"], late["occurred_at"], late["recorded_at"]) == (
        "INITECH-1 reopened",
        four_days_ago.isoformat(timespec="microseconds"),
        today.isoformat(timespec="microseconds"),
    )
    assert first["recorded_at"] < late["recorded_at"] and first["occurred_at"] > late["occurred_at"]

    entries = atom_entries(api, token)[:2]
    assert [(e["id"], e["published"], e["updated"]) for e in entries] == [
        (str(e["id"]), e["occurred_at"], e["recorded_at"]) for e in (late, first)
    ]

    pushed = delivered(api, receiver)
    assert pushed == [first, late]

    publish("INITECH-3", today - timedelta(days=2), recorded_at=today + timedelta(hours=1))
    timeline = ["INITECH-2 reopened", "INITECH-3 reopened", "INITECH-1 reopened"]  # newest first
    updates = [summary for _day, summary in portal_updates(api, token) if summary in timeline]
    assert updates == timeline
    assert digest_section(digest(api, token, ending=today.date()), "Corrections") == [
        "INITECH web: INITECH-1 reopened (2026-09-06)",
        "INITECH web: INITECH-3 reopened (2026-09-08)",
        "INITECH web: INITECH-2 reopened (2026-09-09)",
    ]


# Corrections: an item done, reopened, and done again, from the sandbox's Jira


def portal_promise_outcome(api: TestClient, token: str, *, project_id: int, title: str) -> str:
    page = portal_page(api, token, f"/portal/projects/{project_id}")
    found = re.search(
        rf'<th scope="row"[^>]*>{re.escape(title)}</th>.*?<td [^>]*class="outcome outcome-(\w+)">',
        page,
        flags=re.DOTALL,
    )
    assert found is not None, f"no promise row for {title}"
    return found.group(1)


def test_an_item_done_reopened_and_done_again_reads_the_same_in_every_view(
    api: TestClient, jira_sandbox: JiraSandbox, receiver: Receiver
) -> None:
    sandbox, store = jira_sandbox.sandbox, store_of(api)
    project = next(iter(sandbox.jira.projects.values()))
    created = jira_sandbox.control("POST", "/jira/issues", {"project": project.key, "summary": "Checkout"})
    key = str(created.json()["key"])
    promised = (sandbox.clock.now() + timedelta(days=10)).date()
    jira_sandbox.control("POST", f"/jira/issues/{key}/duedate", {"duedate": promised.isoformat()})
    jira_sandbox.control("POST", f"/jira/issues/{key}/status", {"status": "In Progress"})
    source_id = add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="sandbox-jira",
        webhook_secret=sandbox.jira_webhook_secret,
        base_url=jira_sandbox.base_url,
        credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
    )
    sync_source_now(store, source_id=source_id, full=True)
    with transaction(store.sessions) as session:
        stored = get_project_by_key(session, key=project.key, source_id=source_id)
        assert stored.id is not None
        client = add_client(session, name="acme", now=T0)
        assert client.id is not None
        add_scope(session, client_id=client.id, project_id=stored.id, rule=ScopeRule.ALL, value=None)
        token = issue_token(
            session, client_id=client.id, is_admin=False, name="acme", expires_at=None, now=T0
        )
    subscribe(api, client_id=client.id, url=receiver.url)

    def move_to(status: str) -> None:
        jira_sandbox.control("POST", "/clock/advance", {"seconds": 3600})
        jira_sandbox.control("POST", f"/jira/issues/{key}/status", {"status": status})
        sync_source_now(store, source_id=source_id, full=False)
        evaluate_projects(store, now=sandbox.clock.now(), rules_dir=None, source_id=source_id)

    def about_the_item(told: list[tuple[object, object]]) -> list[tuple[object, object]]:
        return [(kind, summary) for kind, summary in told if str(summary).startswith(key)]

    def feed() -> list[tuple[object, object]]:
        return about_the_item([(e["kind"], e["summary"]) for e in feed_events(api, token.secret)])

    def atom() -> list[tuple[object, object]]:
        return about_the_item([(e["kind"], e["title"]) for e in reversed(atom_entries(api, token.secret))])

    def pushed() -> list[tuple[object, object]]:
        return about_the_item([(e["kind"], e["summary"]) for e in delivered(api, receiver)])

    done = [
        ("item_done", f"{key} done: Checkout"),
        ("commitment_met", f"{key}: promise of {promised} met"),
    ]
    reopened = [
        ("item_reopened", f"{key} reopened: Checkout is no longer done"),
        (
            "commitment_reopened",
            f"{key}: the promise of {promised} is open again, as the delivered work was reopened",
        ),
    ]

    move_to("Done")
    assert portal_promise_outcome(api, token.secret, project_id=stored.id, title=f"{key} Checkout") == "kept"
    move_to("In Progress")
    reopened_on = sandbox.clock.now().date()

    assert feed() == done + reopened
    assert atom() == done + reopened
    assert pushed() == done + reopened
    text = digest(api, token.secret, ending=reopened_on)
    assert digest_section(text, "Corrections") == [
        f"{stored.name}: {summary} ({reopened_on})" for _k, summary in reopened
    ]
    assert [
        line for line in digest_section(text, "Done") + digest_section(text, "Promises kept") if key in line
    ] == []
    updates = portal_updates(api, token.secret)
    assert {(str(reopened_on), summary) for _k, summary in reopened} <= set(updates)
    assert portal_promise_outcome(api, token.secret, project_id=stored.id, title=f"{key} Checkout") == "open"

    move_to("Done")

    assert feed() == done + reopened + done
    assert atom() == done + reopened + done
    assert pushed() == done + reopened + done
    assert portal_promise_outcome(api, token.secret, project_id=stored.id, title=f"{key} Checkout") == "kept"
