from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.fernet import Fernet

from service.domain.enums import ScopeRule, SourceKind
from service.domain.work import Project
from service.feed.cursor import FeedCursorCodec
from service.feed.subscriptions import deliver_due, verify_signature
from service.store.db import transaction
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.store.subscriptions import (
    CREATED_BY_CLIENT,
    CreatedSubscription,
    add_subscription,
    get_subscription,
)
from service.store.tenancy import add_client, add_scope
from tests.service.feed.conftest import Receiver
from tests.support.api import add_feed_event
from tests.support.sources import add_test_source

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CODEC = FeedCursorCodec(Fernet.generate_key())


def _latest(low: float, high: float) -> float:
    return high


def _client(store: Store, name: str = "acme") -> int:
    with transaction(store.sessions) as session:
        client = add_client(session, name=name, now=T0)
    assert client.id is not None
    return client.id


def _subscribe(store: Store, *, client_id: int, url: str) -> CreatedSubscription:
    with transaction(store.sessions) as session:
        return add_subscription(
            session, cipher=store.cipher, client_id=client_id, url=url, created_by=CREATED_BY_CLIENT, now=T0
        )


def _deliver(store: Store, *, at: datetime = T0, allow_private: bool = True) -> tuple[int, int, int]:
    summary = deliver_due(store, codec=CODEC, now=at, allow_private=allow_private, jitter=_latest)
    return summary.delivered, summary.failed, summary.parked


def _event_ids(receiver: Receiver) -> list[int]:
    return [json.loads(r.body)["event"]["id"] for r in receiver.received]


def test_deliver_due_delivery_signature_matches_independent_hmac(store: Store, receiver: Receiver) -> None:
    client_id = _client(store)
    created = _subscribe(store, client_id=client_id, url=receiver.url)
    add_feed_event(store, client_id=client_id, project_id=None, summary="shipped")

    _deliver(store)

    [delivery] = receiver.received
    timestamp = delivery.headers["x-pmbridge-timestamp"]
    expected = hmac.new(created.secret.encode(), f"{timestamp}.".encode() + delivery.body, hashlib.sha256)
    assert timestamp == str(int(T0.timestamp()))
    assert delivery.headers["x-pmbridge-signature"] == f"v1={expected.hexdigest()}"


def test_deliver_due_delivery_carries_feed_event_and_its_cursor(store: Store, receiver: Receiver) -> None:
    client_id = _client(store)
    _subscribe(store, client_id=client_id, url=receiver.url)
    event_id = add_feed_event(store, client_id=client_id, project_id=None, summary="shipped")

    _deliver(store)

    body = json.loads(receiver.received[0].body)
    assert body["event"]["id"] == event_id
    assert body["event"]["summary"] == "shipped"
    assert body["event"]["payload"] == {"summary": "shipped"}
    assert set(body["event"]) == {
        "id",
        "kind",
        "project_id",
        "summary",
        "payload",
        "occurred_at",
        "recorded_at",
    }
    assert CODEC.decode(client_id=client_id, cursor=body["cursor"]) == event_id


def test_deliver_due_several_events_arrive_in_cursor_order(store: Store, receiver: Receiver) -> None:
    client_id = _client(store)
    _subscribe(store, client_id=client_id, url=receiver.url)
    ids = [add_feed_event(store, client_id=client_id, project_id=None, summary=f"e{n}") for n in range(5)]

    delivered = _deliver(store)

    assert delivered == (5, 0, 0)
    assert _event_ids(receiver) == ids


def test_deliver_due_events_before_subscribing_are_not_pushed(store: Store, receiver: Receiver) -> None:
    client_id = _client(store)
    add_feed_event(store, client_id=client_id, project_id=None, summary="old")
    _subscribe(store, client_id=client_id, url=receiver.url)
    new = add_feed_event(store, client_id=client_id, project_id=None, summary="new")

    _deliver(store)

    assert _event_ids(receiver) == [new]


def test_deliver_due_receiver_error_then_success_retries_after_backoff(
    store: Store, receiver: Receiver
) -> None:
    client_id = _client(store)
    created = _subscribe(store, client_id=client_id, url=receiver.url)
    event_id = add_feed_event(store, client_id=client_id, project_id=None, summary="shipped")
    receiver.statuses = [500]

    first = _deliver(store)
    too_soon = _deliver(store, at=T0 + timedelta(seconds=1))
    later = _deliver(store, at=T0 + timedelta(hours=1))

    assert (first, too_soon, later) == ((0, 1, 0), (0, 0, 0), (1, 0, 0))
    assert _event_ids(receiver) == [event_id, event_id]
    with store.sessions() as session:
        after = get_subscription(session, subscription_id=created.subscription.id)
    assert (after.last_event_id, after.attempts, after.last_status) == (event_id, 0, 200)


def test_deliver_due_failure_stops_later_events_until_the_first_is_delivered(
    store: Store, receiver: Receiver
) -> None:
    client_id = _client(store)
    _subscribe(store, client_id=client_id, url=receiver.url)
    ids = [add_feed_event(store, client_id=client_id, project_id=None, summary=f"e{n}") for n in range(3)]
    receiver.statuses = [200, 503]

    _deliver(store)
    _deliver(store, at=T0 + timedelta(hours=1))

    assert _event_ids(receiver) == [ids[0], ids[1], ids[1], ids[2]]


def test_deliver_due_failing_for_over_a_day_parks_the_subscription(store: Store, receiver: Receiver) -> None:
    client_id = _client(store)
    created = _subscribe(store, client_id=client_id, url=receiver.url)
    add_feed_event(store, client_id=client_id, project_id=None, summary="shipped")
    receiver.statuses = [500, 500, 500]

    _deliver(store)
    parked = _deliver(store, at=T0 + timedelta(hours=25))
    after_parking = _deliver(store, at=T0 + timedelta(hours=30))

    assert (parked, after_parking) == ((0, 1, 1), (0, 0, 0))
    assert len(receiver.received) == 2
    with store.sessions() as session:
        after = get_subscription(session, subscription_id=created.subscription.id)
    assert after.parked_at == T0 + timedelta(hours=25)
    assert after.last_status == 500


def test_deliver_due_redirect_is_not_followed(store: Store, receiver: Receiver) -> None:
    client_id = _client(store)
    _subscribe(store, client_id=client_id, url=receiver.url)
    add_feed_event(store, client_id=client_id, project_id=None, summary="shipped")
    receiver.statuses = [307]

    outcome = _deliver(store)

    assert outcome == (0, 1, 0)
    assert [r.path for r in receiver.received] == ["/hook"]


def test_deliver_due_private_address_refused_at_send_time(store: Store, receiver: Receiver) -> None:
    client_id = _client(store)
    created = _subscribe(store, client_id=client_id, url=receiver.url)
    add_feed_event(store, client_id=client_id, project_id=None, summary="shipped")

    outcome = _deliver(store, allow_private=False)

    assert outcome == (0, 1, 0)
    assert receiver.received == []
    with store.sessions() as session:
        after = get_subscription(session, subscription_id=created.subscription.id)
    assert after.last_error is not None and "https" in after.last_error


@pytest.mark.parametrize(
    "address",
    ["10.0.0.7", "127.0.0.1", "169.254.169.254", "::1"],
    ids=["private", "loopback", "metadata", "v6"],
)
def test_deliver_due_host_resolving_to_private_address_is_not_contacted(store: Store, address: str) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    client_id = _client(store)
    _subscribe(store, client_id=client_id, url="https://hooks.example.com/in")
    add_feed_event(store, client_id=client_id, project_id=None, summary="shipped")

    summary = deliver_due(
        store,
        codec=CODEC,
        now=T0,
        allow_private=False,
        transport=transport,
        resolver=lambda _host, _port: [address],
    )

    assert (summary.delivered, summary.failed, sent) == (0, 1, [])


def test_deliver_due_public_host_is_pinned_to_the_checked_address(store: Store) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(204))
    client_id = _client(store)
    _subscribe(store, client_id=client_id, url="https://hooks.example.com:8443/in?team=7")
    add_feed_event(store, client_id=client_id, project_id=None, summary="shipped")

    summary = deliver_due(
        store,
        codec=CODEC,
        now=T0,
        allow_private=False,
        transport=transport,
        resolver=lambda _host, _port: ["93.184.216.34"],
    )

    [request] = sent
    assert summary.delivered == 1
    assert str(request.url) == "https://93.184.216.34:8443/in?team=7"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


def _projects(store: Store, *keys: str) -> dict[str, int]:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="jira", webhook_secret=None)
    with transaction(store.sessions) as session:
        return upsert_projects(
            session,
            projects=[Project(source_id=source_id, external_id=k, key=k, name=k) for k in keys],
        )


def test_deliver_due_event_of_project_outside_scope_is_skipped(store: Store, receiver: Receiver) -> None:
    client_id = _client(store)
    projects = _projects(store, "MINE", "DROPPED")
    with transaction(store.sessions) as session:
        add_scope(session, client_id=client_id, project_id=projects["MINE"], rule=ScopeRule.ALL, value=None)
    created = _subscribe(store, client_id=client_id, url=receiver.url)
    shown = add_feed_event(store, client_id=client_id, project_id=projects["MINE"], summary="shown")
    hidden = add_feed_event(store, client_id=client_id, project_id=projects["DROPPED"], summary="hidden")

    _deliver(store)

    assert _event_ids(receiver) == [shown]
    with store.sessions() as session:
        after = get_subscription(session, subscription_id=created.subscription.id)
    assert after.last_event_id == hidden


def test_deliver_due_other_clients_events_are_not_sent(store: Store, receiver: Receiver) -> None:
    acme = _client(store, "acme")
    globex = _client(store, "globex")
    _subscribe(store, client_id=acme, url=receiver.url)
    add_feed_event(store, client_id=globex, project_id=None, summary="globex only")
    mine = add_feed_event(store, client_id=acme, project_id=None, summary="acme")

    _deliver(store)

    assert _event_ids(receiver) == [mine]


def test_verify_signature_fresh_signed_body_is_accepted(store: Store, receiver: Receiver) -> None:
    client_id = _client(store)
    created = _subscribe(store, client_id=client_id, url=receiver.url)
    add_feed_event(store, client_id=client_id, project_id=None, summary="shipped")
    _deliver(store)
    [delivery] = receiver.received

    ok = verify_signature(
        created.secret,
        delivery.headers["x-pmbridge-timestamp"],
        delivery.body,
        delivery.headers["x-pmbridge-signature"],
        now=T0 + timedelta(seconds=30),
    )

    assert ok


@pytest.mark.parametrize(
    ("timestamp_shift", "body", "at"),
    [
        (0, b'{"tampered":true}', T0),
        (1, b"{}", T0),
        (0, b"{}", T0 + timedelta(minutes=6)),
        (0, b"{}", T0 - timedelta(minutes=6)),
    ],
    ids=["tampered-body", "other-timestamp", "replayed-late", "from-the-future"],
)
def test_verify_signature_altered_or_stale_delivery_is_refused(
    timestamp_shift: int, body: bytes, at: datetime
) -> None:
    timestamp = int(T0.timestamp())
    message = f"{timestamp}.".encode() + b"{}"
    header = "v1=" + hmac.new(b"s3cret", message, hashlib.sha256).hexdigest()

    ok = verify_signature("s3cret", str(timestamp + timestamp_shift), body, header, now=at)

    assert not ok
