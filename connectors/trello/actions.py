"""Board actions (the incremental feed) and card comments."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from pydantic import TypeAdapter

from connectors.http import Params, paginate_by_offset
from connectors.trello.base import TrelloClientBase, check_page_size, paginate_before
from connectors.trello.ids import is_trello_id
from connectors.trello.models.action import TrelloAction

_ACTION = TypeAdapter(TrelloAction)
_ACTIONS = TypeAdapter(list[TrelloAction])
_Reached = Callable[[TrelloAction], bool]
COMMENT_PAGE_SIZE = 50
# `page` on /cards/{id}/actions stops at 19 (TOAS), so at most 20 pages of 50 comments are readable.
COMMENT_MAX_PAGES = 20


class ActionsApi(TrelloClientBase):
    def iter_board_actions(
        self,
        board_id: str,
        *,
        since: str | datetime | None = None,
        filter: Sequence[str] = (),
        page_size: int = 1000,
        before: str | None = None,
    ) -> Iterator[list[TrelloAction]]:
        """Pages of a board's actions, newest first, walking back with `before` past the 1,000 cap.

        `since` (an action id, an ISO-8601 instant or an aware datetime) is sent to Trello and also
        ends the walk once a page reaches it; `filter` names action types (all types when empty);
        `before` resumes an interrupted walk.
        """
        check_page_size(page_size)
        since_param, reached = _since_bound(since)
        route = "/1/boards/{board}/actions"

        def fetch(bound: str | None) -> list[TrelloAction]:
            params: Params = {
                "limit": page_size,
                "filter": ",".join(filter) if filter else None,
                "since": since_param,
                "before": bound,
                "memberCreator": True,
                "memberCreator_fields": "username,fullName,initials,avatarUrl",
                "member": False,
            }
            return self._call(_ACTIONS, "GET", route, path={"board": board_id}, params=params)

        yield from paginate_before(
            fetch,
            item_id=lambda action: action.id,
            page_size=page_size,
            endpoint=f"GET {route}",
            before=before,
            reached_end=lambda page: any(reached(action) for action in page),
        )

    def iter_card_comments(self, card_id: str) -> Iterator[TrelloAction]:
        """commentCard actions of a card, newest first (at most 1,000: Trello's `page` cap)."""
        route = "/1/cards/{card}/actions"

        def fetch(start: int) -> list[TrelloAction]:
            params: Params = {
                "filter": "commentCard",
                "limit": COMMENT_PAGE_SIZE,
                "page": start // COMMENT_PAGE_SIZE,
            }
            return self._call(_ACTIONS, "GET", route, path={"card": card_id}, params=params)

        pages = paginate_by_offset(
            fetch,
            item_count=len,
            is_last=lambda page: len(page) < COMMENT_PAGE_SIZE,
            reported_start=lambda _page: None,
            endpoint=f"GET {route}",
        )
        for number, page in enumerate(pages, start=1):
            yield from page
            if number >= COMMENT_MAX_PAGES:
                return

    def create_comment(self, card_id: str, text: str) -> TrelloAction:
        """Returns the new commentCard action; its id is the comment's id.

        Not retried after the server may have acted on it: Trello has no idempotency key, so the
        caller looks for its own marker in the card's comments before posting again.
        """
        return self._call(
            _ACTION,
            "POST",
            "/1/cards/{card}/actions/comments",
            path={"card": card_id},
            json={"text": text},
            idempotent=False,
        )

    def update_comment(self, card_id: str, comment_id: str, text: str) -> TrelloAction:
        return self._call(
            _ACTION,
            "PUT",
            "/1/cards/{card}/actions/{comment}/comments",
            path={"card": card_id, "comment": comment_id},
            json={"text": text},
        )


def _since_bound(since: str | datetime | None) -> tuple[str | None, _Reached]:
    """The `since` parameter and the test for "this action is at or before it"."""
    if since is None:
        return None, _never
    if isinstance(since, str) and is_trello_id(since):
        bound_id = since.lower()
        return since, lambda action: action.id.lower() <= bound_id
    moment = _parse_instant(since) if isinstance(since, str) else since
    if moment.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    moment = moment.astimezone(UTC)
    wire = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return wire, lambda action: action.date <= moment


def _parse_instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError("since must be a Trello id or an ISO-8601 instant") from exc


def _never(_action: TrelloAction) -> bool:
    return False
