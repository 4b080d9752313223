"""Every view of a client's events tells the same story: the feed's JSON pages, Atom, subscription
deliveries, the digest and the portal, read through their routes and their delivery job."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from service.feed.cursor import FeedCursorCodec
from service.feed.subscriptions import deliver_due
from service.store.db import transaction
from service.store.orm import FlagRow
from service.store.subscriptions import CREATED_BY_CLIENT, add_subscription
from tests.service.feed.conftest import Receiver
from tests.support.api import T0, World, bearer, make_settings, open_test_api, seed_world, store_of

ATOM = {"a": "http://www.w3.org/2005/Atom"}
CODEC = FeedCursorCodec(Fernet.generate_key())


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    with open_test_api(make_settings(tmp_path)) as test_client:
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
