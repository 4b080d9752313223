"""Card and action selection: Trello's filters, `since`/`before` boundaries, `limit`, `page` and order."""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.trello.errors import TrelloWorldError
from sandbox.trello.ids import parse_boundary
from sandbox.trello.models import Action, Card
from sandbox.trello.state import TrelloWorld

CARD_FILTERS = frozenset({"all", "closed", "complete", "incomplete", "none", "open", "visible"})
LIST_FILTERS = frozenset({"all", "closed", "none", "open"})
MAX_LIMIT = 1000
# Default filter of GET /1/cards/{id}/actions [TOAS].
CARD_ACTIONS_DEFAULT_FILTER = "commentCard,updateCard:idList"


def invalid(name: str) -> TrelloWorldError:
    return TrelloWorldError(400, f"invalid value for {name}")


def parse_int(value: str | None, name: str, *, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise invalid(name) from None
    if not low <= number <= high:
        raise invalid(name)
    return number


def boundary(value: str | None, name: str) -> str | None:
    if value is None or value in {"", "null"}:
        return None
    parsed = parse_boundary(value)
    if parsed is None:
        raise invalid(name)
    return parsed


def card_matches(world: TrelloWorld, card: Card, card_filter: str) -> bool:
    if card_filter == "all":
        return True
    if card_filter == "open":
        return not card.closed
    if card_filter == "closed":
        return card.closed
    if card_filter == "visible":
        return not card.closed and not world.lists[card.id_list].closed
    if card_filter == "complete":
        return card.due_complete
    if card_filter == "incomplete":
        return not card.due_complete
    return False


def select_cards(
    world: TrelloWorld, cards: Iterable[Card], *, card_filter: str, params: dict[str, str]
) -> list[Card]:
    """Filter, then page on ids when `limit`/`before`/`since` are given.

    Without paging Trello returns cards in board order (list by list, top to bottom). With `limit` it
    keeps the newest cards but still answers in board order, so clients must sort a page by id
    themselves [gist.github.com/hakunin/3c25a4c4ae30a2c2c299; tap-trello cards.py]. `sort=id|-id`
    orders the page by id and decides which end `limit` keeps (a simulator choice, undocumented).
    """
    if card_filter not in CARD_FILTERS:
        raise invalid("filter")
    chosen = [card for card in cards if card_matches(world, card, card_filter)]
    before, since = boundary(params.get("before"), "before"), boundary(params.get("since"), "since")
    sort = params.get("sort")
    if sort not in {None, "", "id", "-id"}:
        raise invalid("sort")
    limit_param = params.get("limit")
    if before is not None:
        chosen = [card for card in chosen if card.id < before]
    if since is not None:
        chosen = [card for card in chosen if card.id > since]
    if limit_param is not None:
        limit = parse_int(limit_param, "limit", default=MAX_LIMIT, low=0, high=MAX_LIMIT)
        chosen.sort(key=lambda card: card.id, reverse=sort != "id")
        chosen = chosen[:limit]
    if sort in {"id", "-id"}:
        chosen.sort(key=lambda card: card.id, reverse=sort == "-id")
    else:
        list_pos = {list_id: world.lists[list_id].pos for list_id in {card.id_list for card in chosen}}
        chosen.sort(key=lambda card: (list_pos[card.id_list], card.pos))
    return chosen


def _action_filter(spec: str) -> list[tuple[str, str | None]] | None:
    """`None` means all types; `updateCard:idList` selects updateCards whose `data.old` has idList."""
    entries: list[tuple[str, str | None]] = []
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            continue
        if entry == "all":
            return None
        kind, _, field = entry.partition(":")
        entries.append((kind, field or None))
    return entries


def _action_selected(action: Action, wanted: list[tuple[str, str | None]]) -> bool:
    for kind, field in wanted:
        if action.type != kind:
            continue
        if field is None:
            return True
        old = action.data.get("old")
        if isinstance(old, dict) and field in old:
            return True
    return False


def select_actions(
    feed: list[Action], params: dict[str, str], *, default_filter: str = "all", default_limit: int = 50
) -> list[Action]:
    """Newest first, `limit` ≤ 1000, `page` within the first 1000 results [TOAS /boards/{id}/actions]."""
    wanted = _action_filter(params.get("filter") or default_filter)
    limit = parse_int(params.get("limit"), "limit", default=default_limit, low=0, high=MAX_LIMIT)
    page = parse_int(params.get("page"), "page", default=0, low=0, high=MAX_LIMIT)
    if limit and (page + 1) * limit > MAX_LIMIT:
        raise invalid("page")
    before, since = boundary(params.get("before"), "before"), boundary(params.get("since"), "since")
    skip = page * limit
    out: list[Action] = []
    for action in reversed(feed):
        if before is not None and action.id >= before:
            continue
        if since is not None and action.id <= since:
            break
        if wanted is not None and not _action_selected(action, wanted):
            continue
        if skip:
            skip -= 1
            continue
        if len(out) >= limit:
            break
        out.append(action)
    return out
