"""The one error of the fake Trello: a refusal carrying Trello's status and plain-text body."""

from __future__ import annotations

NOT_FOUND = "The requested resource was not found."


class TrelloWorldError(Exception):
    """A request or change the real service would refuse; `text` is Trello's plain-text error body."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
