"""Members, boards, cards, checklists and custom field items; batched reads of cards and boards."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Literal, TypeVar

from pydantic import TypeAdapter

from connectors.http import Params
from connectors.trello.base import TrelloClientBase, check_page_size, paginate_before
from connectors.trello.batch import TrelloBatchResult, batch_url, chunked, parse_batch
from connectors.trello.models.board import TrelloBoard
from connectors.trello.models.card import TrelloCard, TrelloChecklist, TrelloCustomFieldItem
from connectors.trello.models.common import TrelloMember

T = TypeVar("T")
BoardFilter = Literal["all", "closed", "members", "open", "organization", "public", "starred"]
CardFilter = Literal["all", "closed", "complete", "incomplete", "open", "visible"]

_MEMBER = TypeAdapter(TrelloMember)
_BOARD = TypeAdapter(TrelloBoard)
_BOARDS = TypeAdapter(list[TrelloBoard])
_CARD = TypeAdapter(TrelloCard)
_CARDS = TypeAdapter(list[TrelloCard])
_CHECKLISTS = TypeAdapter(list[TrelloChecklist])
_CUSTOM_FIELD_ITEMS = TypeAdapter(list[TrelloCustomFieldItem])

BOARD_FIELDS = "name,desc,closed,url,shortUrl,shortLink,idOrganization,dateLastActivity"
MEMBER_FIELDS = "username,fullName,initials,avatarUrl"
ORGANIZATION_FIELDS = "name,displayName,url"
# Labels nested in a board default to 50 (like GET /boards/{id}/labels); a board may hold up to ~950.
_BOARD_PARAMS: dict[str, str] = {
    "fields": BOARD_FIELDS,
    "lists": "all",
    "labels": "all",
    "labels_limit": "1000",
    "members": "all",
    "member_fields": MEMBER_FIELDS,
    "customFields": "true",
    "organization": "true",
    "organization_fields": ORGANIZATION_FIELDS,
    "actions": "none",
    "cards": "none",
}
# `fields=all` keeps `badges`, `labels` and dates; attachments and members are not needed.
_CARD_PARAMS: dict[str, str] = {
    "fields": "all",
    "checklists": "all",
    "customFieldItems": "true",
    "attachments": "false",
    "members": "false",
}


class BoardsApi(TrelloClientBase):
    def get_member(self, member_id: str = "me") -> TrelloMember:
        """`/1/members/{id}` also counts against the members route limit (100 per 900 s): use it for
        a connection test, not in loops."""
        return self._call(
            _MEMBER,
            "GET",
            "/1/members/{member}",
            path={"member": member_id},
            params={"fields": MEMBER_FIELDS},
        )

    def list_member_boards(self, member_id: str = "me", *, filter: BoardFilter = "open") -> list[TrelloBoard]:
        """Boards of a member with their organization; nested collections are not included."""
        params: Params = {
            "filter": filter,
            "fields": BOARD_FIELDS,
            "organization": True,
            "organization_fields": ORGANIZATION_FIELDS,
        }
        return self._call(
            _BOARDS, "GET", "/1/members/{member}/boards", path={"member": member_id}, params=params
        )

    def get_board(self, board_id: str) -> TrelloBoard:
        """The board with all its lists (archived too), labels, members and custom fields in one call."""
        return self._call(_BOARD, "GET", "/1/boards/{board}", path={"board": board_id}, params=_BOARD_PARAMS)

    def get_boards(self, board_ids: Sequence[str]) -> list[TrelloBatchResult[TrelloBoard]]:
        """`get_board` for many boards through `/1/batch` (10 per call), results in request order."""
        return self._batch_get(_BOARD, "/boards/{board}", "board", board_ids, _BOARD_PARAMS)

    def iter_board_cards(
        self, board_id: str, *, filter: CardFilter = "all", page_size: int = 1000
    ) -> Iterator[TrelloCard]:
        """Cards of a board with checklists and custom field items; `filter="all"` includes archived
        cards. Pages backwards with `before` when a board has more than `page_size` cards."""
        check_page_size(page_size)
        route = "/1/boards/{board}/cards"

        def fetch(before: str | None) -> list[TrelloCard]:
            params: Params = {**_CARD_PARAMS, "filter": filter, "limit": page_size, "before": before}
            return self._call(_CARDS, "GET", route, path={"board": board_id}, params=params)

        for page in paginate_before(
            fetch, item_id=lambda card: card.id, page_size=page_size, endpoint=f"GET {route}"
        ):
            yield from page

    def get_card(self, card_id: str) -> TrelloCard:
        return self._call(_CARD, "GET", "/1/cards/{card}", path={"card": card_id}, params=_CARD_PARAMS)

    def get_cards(self, card_ids: Sequence[str]) -> list[TrelloBatchResult[TrelloCard]]:
        """`get_card` for many cards through `/1/batch` (10 per call), results in request order; a
        deleted card answers 404 in its slot without failing the others."""
        return self._batch_get(_CARD, "/cards/{card}", "card", card_ids, _CARD_PARAMS)

    def list_card_checklists(self, card_id: str) -> list[TrelloChecklist]:
        return self._call(
            _CHECKLISTS, "GET", "/1/cards/{card}/checklists", path={"card": card_id}, params={"fields": "all"}
        )

    def list_card_custom_field_items(self, card_id: str) -> list[TrelloCustomFieldItem]:
        return self._call(
            _CUSTOM_FIELD_ITEMS, "GET", "/1/cards/{card}/customFieldItems", path={"card": card_id}
        )

    def _batch_get(
        self,
        adapter: TypeAdapter[T],
        route: str,
        path_name: str,
        ids: Sequence[str],
        params: Mapping[str, str],
    ) -> list[TrelloBatchResult[T]]:
        results: list[TrelloBatchResult[T]] = []
        for chunk in chunked(ids):
            urls = ",".join(batch_url(route, {path_name: item}, params) for item in chunk)
            # Whether each sub-request counts against the limits is not documented: charge them all.
            self._pacing.charge(len(chunk) - 1)
            response = self.session.request("GET", "/1/batch", params={"urls": urls})
            results.extend(
                parse_batch(
                    response.content,
                    adapter,
                    expected=len(chunk),
                    endpoint="GET /1/batch",
                    redact=self._redact,
                )
            )
        return results
