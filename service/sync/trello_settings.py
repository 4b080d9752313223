"""A Trello source's sync settings, read from `SourceRow.settings`.

Keys (all optional):
- `board_ids`: the boards to sync; default every open board of the token's member, as discovered by
  the last full sync (kept in `discovered_board_ids`).
- `list_categories`: `{board_id: {list_id: "todo" | "in_progress" | "done"}}`, overriding the
  category a list's name suggests (`status_category_from_list_name`).
- `blocked_labels` / `milestone_labels`: label names (case-insensitive) meaning "blocked" and
  "this card is a milestone".
- `archived_is_done`: count archived cards as done. Off by default: an archived card still exists
  and keeps its list's category (archiving is tidying up as often as finishing).
- `spent_field` / `estimate_field`: the board custom field (a number, in hours; named, or given by
  id) holding a card's time spent / its estimate. Without `estimate_field`, a number field named
  like "Estimate (h)" or "Estimated hours" is the estimate; without `spent_field`, cards carry no
  time spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.trello import is_trello_id
from service.domain.enums import StatusCategory
from service.errors import ConfigurationError

DEFAULT_BLOCKED_LABELS = ("blocked", "impediment", "on hold")
DEFAULT_MILESTONE_LABELS = ("milestone",)
DISCOVERED_BOARDS_KEY = "discovered_board_ids"
SPENT_FIELD_KEY = "spent_field"
ESTIMATE_FIELD_KEY = "estimate_field"
FIELD_NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class TrelloSyncSettings:
    board_ids: tuple[str, ...] = ()
    discovered_board_ids: tuple[str, ...] = ()
    list_categories: Mapping[str, Mapping[str, StatusCategory]] = field(default_factory=dict)
    blocked_labels: frozenset[str] = frozenset(DEFAULT_BLOCKED_LABELS)
    milestone_labels: frozenset[str] = frozenset(DEFAULT_MILESTONE_LABELS)
    archived_is_done: bool = False
    spent_field: str | None = None
    estimate_field: str | None = None

    @property
    def scope(self) -> tuple[str, ...]:
        """Boards an incremental run covers: the configured ones, else those the last full run found."""
        return self.board_ids or self.discovered_board_ids

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> TrelloSyncSettings:
        return cls(
            board_ids=_ids(settings, "board_ids"),
            discovered_board_ids=_ids(settings, DISCOVERED_BOARDS_KEY),
            list_categories=_list_categories(settings.get("list_categories") or {}),
            blocked_labels=_names(settings, "blocked_labels", DEFAULT_BLOCKED_LABELS),
            milestone_labels=_names(settings, "milestone_labels", DEFAULT_MILESTONE_LABELS),
            archived_is_done=bool(settings.get("archived_is_done", False)),
            spent_field=_field_name(settings, SPENT_FIELD_KEY),
            estimate_field=_field_name(settings, ESTIMATE_FIELD_KEY),
        )


def _ids(settings: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = settings.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) and is_trello_id(item) for item in value):
        raise ConfigurationError(f"Trello setting {name} must be a list of board ids (24 hex digits)")
    return tuple(dict.fromkeys(item.lower() for item in value))


def _names(settings: Mapping[str, Any], name: str, default: tuple[str, ...]) -> frozenset[str]:
    value = settings.get(name)
    if value is None:
        return frozenset(default)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigurationError(f"Trello setting {name} must be a list of label names")
    return frozenset(item.strip().casefold() for item in value if item.strip())


def _field_name(settings: Mapping[str, Any], name: str) -> str | None:
    value = settings.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > FIELD_NAME_MAX:
        raise ConfigurationError(
            f"Trello setting {name} must name a board custom field (1 to {FIELD_NAME_MAX} characters)"
        )
    return value.strip()


def _list_categories(value: object) -> dict[str, dict[str, StatusCategory]]:
    if not isinstance(value, dict):
        raise ConfigurationError("Trello setting list_categories must map board ids to {list id: category}")
    out: dict[str, dict[str, StatusCategory]] = {}
    for board_id, lists in value.items():
        if not isinstance(lists, dict):
            raise ConfigurationError(f"list_categories of board {board_id} must map list ids to categories")
        try:
            out[str(board_id).lower()] = {
                str(list_id).lower(): StatusCategory(category) for list_id, category in lists.items()
            }
        except ValueError as exc:
            raise ConfigurationError(
                f"list_categories of board {board_id}: categories are todo, in_progress or done"
            ) from exc
    return out
