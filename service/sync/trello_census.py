"""The Trello delete census: what the store shows but complete card listings lacked.

A missing card is asked for by id (`/1/batch`, 10 a call): 404 means deleted; found on a board that
is not synced, or no longer readable (401/403), means hidden. Cards of a board that left the scope
(unselected, closed, or no longer readable) are hidden without asking: they still exist. Nothing is
inferred from a listing that failed, and a census that would remove more than half of the items is
refused as a listing that looked complete but was not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from connectors.trello import TrelloClient
from service.domain.enums import Visibility
from service.store.db import transaction
from service.store.items import list_item_external_ids, mark_items_visibility
from service.store.projects import list_projects
from service.store.runtime import Store
from service.sync.summary import SyncSummary

MAX_CENSUS_REMOVAL_SHARE = 0.5
MIN_CENSUS_REFUSAL = 50
MAX_MISSING_CHECKS = 500
_GONE = frozenset({401, 403})
_DELETED = 404


class TrelloCensus:
    def __init__(
        self,
        store: Store,
        *,
        source_id: int,
        client: TrelloClient,
        summary: SyncSummary,
        now: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._source_id = source_id
        self._client = client
        self._summary = summary
        self._now = now

    def reconcile(self, seen: set[str], *, listed: set[str], in_scope: set[str]) -> None:
        """`seen`: card ids of complete listings of the boards in `listed`; `in_scope`: the boards
        that are synced. Stored cards of other boards are out of scope."""
        missing, out_of_scope, stored = self._candidates(seen, listed=listed, in_scope=in_scope)
        deleted: list[str] = []
        hidden: list[str] = sorted(out_of_scope)
        if len(missing) > max(MIN_CENSUS_REFUSAL, int(stored * MAX_CENSUS_REMOVAL_SHARE)):
            self._summary.errors.append(
                f"census refused: {len(missing)} of {stored} cards missing looks like a partial listing"
            )
        elif missing:
            checked = missing[:MAX_MISSING_CHECKS]
            for card_id, result in zip(checked, self._client.get_cards(checked), strict=True):
                if result.status_code == _DELETED:
                    deleted.append(card_id)
                elif result.status_code in _GONE or (
                    result.value is not None and result.value.id_board.lower() not in in_scope
                ):
                    hidden.append(card_id)
        if not deleted and not hidden:
            return
        at = self._now()
        with transaction(self._store.sessions) as session:
            self._summary.items_deleted += mark_items_visibility(
                session, source_id=self._source_id, external_ids=deleted, visibility=Visibility.DELETED, at=at
            )
            self._summary.items_hidden += mark_items_visibility(
                session, source_id=self._source_id, external_ids=hidden, visibility=Visibility.HIDDEN, at=at
            )

    def _candidates(
        self, seen: set[str], *, listed: set[str], in_scope: set[str]
    ) -> tuple[list[str], set[str], int]:
        """(missing cards of listed boards, visible cards of boards out of scope, stored total)."""
        missing: set[str] = set()
        out_of_scope: set[str] = set()
        stored = 0
        with self._store.sessions() as session:
            for project in list_projects(session, source_id=self._source_id):
                assert project.id is not None
                board_id = project.external_id.lower()
                ids = list_item_external_ids(session, source_id=self._source_id, project_id=project.id)
                stored += len(ids)
                if board_id in listed:
                    missing |= ids - seen
                elif board_id not in in_scope:
                    out_of_scope |= ids - seen
        return sorted(missing), out_of_scope, stored
