from __future__ import annotations

import socket
from typing import Any

from sandbox.dispatcher import DeliveryOptions, RetryPolicy, WebhookDispatcher
from sandbox.emit import OutgoingWebhook


def _delivery(url: str, n: int = 1, provider: str = "jira") -> OutgoingWebhook:
    return OutgoingWebhook(
        url=url,
        headers={"X-Atlassian-Webhook-Identifier": str(n), "Content-Type": "application/json"},
        body=b'{"n": %d}' % n,
        provider=provider,
        retry_headers={"X-Atlassian-Webhook-Retry": "{attempt}"} if provider == "jira" else {},
    )


def test_dispatcher_posts_body_and_headers(receiver: Any) -> None:
    with WebhookDispatcher() as dispatcher:
        dispatcher(_delivery(receiver.url))
        assert dispatcher.flush()
    headers, body = receiver.received[0]
    assert body == b'{"n": 1}'
    assert headers["x-atlassian-webhook-identifier"] == "1"
    assert "x-atlassian-webhook-retry" not in headers


def test_dispatcher_retries_jira_5xx_with_retry_header_and_same_identifier(receiver: Any) -> None:
    receiver.statuses.extend([503, 429])
    with WebhookDispatcher() as dispatcher:
        dispatcher(_delivery(receiver.url, 7))
        assert dispatcher.flush()
    received = receiver.received
    assert [h.get("x-atlassian-webhook-retry") for h, _ in received] == [None, "1", "2"]
    assert {h["x-atlassian-webhook-identifier"] for h, _ in received} == {"7"}


def test_dispatcher_does_not_retry_jira_400(receiver: Any) -> None:
    receiver.statuses.append(400)
    with WebhookDispatcher() as dispatcher:
        dispatcher(_delivery(receiver.url))
        assert dispatcher.flush()
    assert len(receiver.received) == 1
    assert dispatcher.attempts[0].status == 400


def test_dispatcher_gives_up_after_max_retries_on_connection_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policies = {"jira": RetryPolicy(frozenset({500}), max_retries=2)}
    with WebhookDispatcher(policies=policies, timeout_s=1.0) as dispatcher:
        dispatcher(_delivery(f"http://127.0.0.1:{port}/hook"))
        assert dispatcher.flush()
    assert [(a.attempt, a.status, a.error is not None) for a in dispatcher.attempts] == [
        (0, None, True),
        (1, None, True),
        (2, None, True),
    ]


def test_dispatcher_duplicate_sends_each_delivery_twice(receiver: Any) -> None:
    with WebhookDispatcher(options=DeliveryOptions(duplicate=1.0)) as dispatcher:
        dispatcher(_delivery(receiver.url))
        assert dispatcher.flush()
    identifiers = [h["x-atlassian-webhook-identifier"] for h, _ in receiver.received]
    assert identifiers == ["1", "1"]


def test_dispatcher_reorder_window_shuffles_deliveries(receiver: Any) -> None:
    with WebhookDispatcher(options=DeliveryOptions(reorder_window=8), seed=3) as dispatcher:
        for n in range(8):
            dispatcher(_delivery(receiver.url, n))
        assert dispatcher.flush()
    order = [int(h["x-atlassian-webhook-identifier"]) for h, _ in receiver.received]
    assert sorted(order) == list(range(8))
    assert order != list(range(8))


def test_dispatcher_flush_releases_a_partial_reorder_window(receiver: Any) -> None:
    with WebhookDispatcher(options=DeliveryOptions(reorder_window=10, reorder_hold_s=60)) as dispatcher:
        dispatcher(_delivery(receiver.url))
        assert dispatcher.flush()
    assert len(receiver.received) == 1


def test_dispatcher_delay_holds_delivery_until_due(receiver: Any) -> None:
    with WebhookDispatcher(options=DeliveryOptions(delay_s=0.2)) as dispatcher:
        dispatcher(_delivery(receiver.url))
        sent_at_once = len(receiver.received)
        assert dispatcher.flush()
    assert (sent_at_once, len(receiver.received)) == (0, 1)


def test_dispatcher_listener_sees_each_attempt(receiver: Any) -> None:
    seen: list[int | None] = []
    with WebhookDispatcher() as dispatcher:
        dispatcher.listeners.append(lambda delivery, status: seen.append(status))
        dispatcher(_delivery(receiver.url, provider="trello"))
        assert dispatcher.flush()
    assert seen == [200]
