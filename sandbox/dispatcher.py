"""Delivers webhooks in a background thread, with the providers' retry rules and optional misbehaviour.

Jira Cloud retries on 408, 409, 425, 429, any 5xx and connection failures, re-using the identifier and
adding `X-Atlassian-Webhook-Retry` (reference §7.3); Trello retries failed deliveries 3 times. Tests
and the demo can make delivery duplicate, delay or reorder deliveries, as the real services may.
A delivery's `retry_headers` values may hold `{attempt}`, replaced by the retry number.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import httpx

from sandbox.emit import OutgoingWebhook

_JIRA_RETRY_STATUSES = frozenset({408, 409, 425, 429, *range(500, 600)})
_TRELLO_RETRY_STATUSES = frozenset(s for s in range(300, 600) if s != 410)


@dataclass(frozen=True)
class RetryPolicy:
    retry_statuses: frozenset[int]
    max_retries: int
    delay_s: float = 0.0


DEFAULT_POLICIES = {
    "jira": RetryPolicy(_JIRA_RETRY_STATUSES, max_retries=5),
    "trello": RetryPolicy(_TRELLO_RETRY_STATUSES, max_retries=3),
}


@dataclass
class DeliveryOptions:
    """Misbehaviour: `duplicate` is the chance a delivery is sent twice, `delay_s` holds every delivery back,
    `reorder_window` > 1 collects that many deliveries (or waits `reorder_hold_s`) and sends them shuffled."""

    duplicate: float = 0.0
    delay_s: float = 0.0
    reorder_window: int = 1
    reorder_hold_s: float = 0.5


@dataclass(frozen=True)
class DeliveryAttempt:
    url: str
    provider: str
    attempt: int
    status: int | None
    error: str | None
    headers: dict[str, str] = field(default_factory=dict)


Listener = Callable[[OutgoingWebhook, int | None], None]


class WebhookDispatcher:
    """A WebhookSink; call `start()` (or use it as a context manager) to begin sending."""

    def __init__(
        self,
        *,
        policies: dict[str, RetryPolicy] | None = None,
        options: DeliveryOptions | None = None,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        seed: int = 0,
    ) -> None:
        self.policies = dict(policies or DEFAULT_POLICIES)
        self.options = options or DeliveryOptions()
        self.attempts: list[DeliveryAttempt] = []
        self.listeners: list[Listener] = []
        self._client = httpx.Client(timeout=timeout_s, transport=transport)
        self._rng = random.Random(seed)
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, OutgoingWebhook, int]] = []
        self._held: list[OutgoingWebhook] = []
        self._held_since = 0.0
        self._seq = itertools.count()
        self._in_flight = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)

    def __call__(self, delivery: OutgoingWebhook, /) -> None:
        with self._cond:
            copies = 2 if self.options.duplicate and self._rng.random() < self.options.duplicate else 1
            for _ in range(copies):
                if self.options.reorder_window > 1:
                    if not self._held:
                        self._held_since = time.monotonic()
                    self._held.append(delivery)
                    if len(self._held) >= self.options.reorder_window:
                        self._release_held()
                else:
                    self._schedule(delivery, 0, self.options.delay_s)
            self._cond.notify_all()

    def _schedule(self, delivery: OutgoingWebhook, attempt: int, delay_s: float) -> None:
        heapq.heappush(self._queue, (time.monotonic() + delay_s, next(self._seq), delivery, attempt))

    def _release_held(self) -> None:
        held, self._held = self._held, []
        self._rng.shuffle(held)
        for delivery in held:
            self._schedule(delivery, 0, self.options.delay_s)

    def start(self) -> WebhookDispatcher:
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._client.close()

    def __enter__(self) -> WebhookDispatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Release held deliveries and wait until everything due has been sent; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            if self._held:
                self._release_held()
                self._cond.notify_all()
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def _next(self) -> tuple[OutgoingWebhook, int] | None:
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._held and now - self._held_since >= self.options.reorder_hold_s:
                    self._release_held()
                if self._queue and self._queue[0][0] <= now:
                    _, _, delivery, attempt = heapq.heappop(self._queue)
                    self._in_flight += 1
                    return delivery, attempt
                wait = self._queue[0][0] - now if self._queue else 0.1
                self._cond.wait(min(max(wait, 0.001), 0.1))
        return None

    def _run(self) -> None:
        while (item := self._next()) is not None:
            delivery, attempt = item
            try:
                self._send(delivery, attempt)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _send(self, delivery: OutgoingWebhook, attempt: int) -> None:
        headers = dict(delivery.headers)
        if attempt:
            headers.update(
                {k: v.replace("{attempt}", str(attempt)) for k, v in delivery.retry_headers.items()}
            )
        status: int | None = None
        error: str | None = None
        try:
            response = self._client.post(delivery.url, content=delivery.body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        self.attempts.append(
            DeliveryAttempt(delivery.url, delivery.provider, attempt, status, error, headers)
        )
        for listener in self.listeners:
            listener(delivery, status)
        policy = self.policies.get(delivery.provider)
        failed = status is None or (policy is not None and status in policy.retry_statuses)
        if failed and policy is not None and attempt < policy.max_retries:
            with self._cond:
                self._schedule(replace(delivery), attempt + 1, policy.delay_s)
                self._cond.notify_all()
