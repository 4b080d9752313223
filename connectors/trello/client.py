"""The typed Trello client."""

from __future__ import annotations

from types import TracebackType

from connectors.trello.actions import ActionsApi
from connectors.trello.boards import BoardsApi
from connectors.trello.webhook_registry import WebhooksApi


class TrelloClient(BoardsApi, ActionsApi, WebhooksApi):
    """Construct with `TrelloCredentials`; inject `http_client` or `transport` to drive it in tests.

    Pass one `TrelloRateLimiter` to every client sharing an API key: the 300/10 s budget is the key's.
    """

    def __enter__(self) -> TrelloClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
