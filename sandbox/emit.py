"""The seam between a world that produces webhook deliveries and the dispatcher that sends them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingWebhook:
    """One delivery as the real service would send it: target, headers (signature included), raw body."""

    url: str
    headers: dict[str, str]
    body: bytes
    provider: str  # "jira" | "trello"
    # Headers added on a redelivery only, e.g. Jira's X-Atlassian-Webhook-Retry.
    retry_headers: dict[str, str] = field(default_factory=dict)


class WebhookSink(Protocol):
    def __call__(self, delivery: OutgoingWebhook, /) -> None: ...


class CollectingSink:
    """A sink that only remembers deliveries; worlds default to it and tests read it."""

    def __init__(self) -> None:
        self.deliveries: list[OutgoingWebhook] = []

    def __call__(self, delivery: OutgoingWebhook, /) -> None:
        self.deliveries.append(delivery)
