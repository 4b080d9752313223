"""Trello sync: full per board, incremental through board actions since a per-board cursor, and the
delete census.

Frugal with the API. A full run: the member's open boards (1 call, unless `board_ids` are set),
the boards with lists, labels, members and custom fields through `/1/batch` (10 a call), then per
board its actions (1,000 a page, `before` paging) and its cards (`filter=all`, with checklists and
custom field items, 1,000 a page). An incremental run: one actions call per board since its cursor,
and only when something happened, the board (lists may have changed) and the cards the actions
touched (`/1/batch`, 10 a call). A board is applied in one transaction together with its cursor,
`board:<id>` → `{"action_id", "date"}`, so a crash resumes where the last committed board ended.

Actions are read before cards: a cursor then never passes an action whose effect the cards read
may lack; actions between the two reads are read again next time, and replays change nothing.

Besides the changes they record, card actions that show work are the cards' activity
(`trello_mapping.map_action_activity`: comments, checklists, members, creation, attachments, other
edits), from the board's actions on every run and from webhook deliveries alike; a deleteComment
removes its comment's activity. A comment's text is never kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors.http import AuthError, NotFoundError, TransientError
from connectors.trello import CARD_ACTION_TYPES, TrelloClient
from connectors.trello.models import TrelloAction, TrelloCard
from service.domain.enums import Visibility
from service.domain.work import Activity, Change, Milestone, Project, Source, WorkItem
from service.store.activity import delete_activity, save_activity
from service.store.db import Session, transaction
from service.store.items import (
    list_item_keys_by_external_id,
    list_item_updated_at,
    mark_items_visibility,
    refresh_board_derived_fields,
    stamp_done_times,
    upsert_milestones,
    upsert_work_items,
)
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.store.sources import update_source_settings
from service.store.sync_state import find_cursor, save_cursor
from service.sync.summary import SyncSummary
from service.sync.trello_census import TrelloCensus
from service.sync.trello_mapping import (
    ACTIVITY_KINDS,
    DELETE_COMMENT,
    BoardContext,
    card_milestone,
    deleted_comment_id,
    map_action_activity,
    map_action_changes,
    map_board,
    map_card,
)
from service.sync.trello_settings import DISCOVERED_BOARDS_KEY, TrelloSyncSettings

# A board, card or action the token may no longer read answers 401/403; one that is gone, 404.
GONE_STATUSES = frozenset({401, 403, 404})
# The action types a full run's history needs: those that record changes, deletes, and those that
# show work (activity; a deleteComment takes a comment's back). Board and list actions are left out.
HISTORY_ACTION_TYPES = tuple(
    dict.fromkeys(
        ("updateCard", "deleteCard", "addLabelToCard", "removeLabelFromCard", *ACTIVITY_KINDS, DELETE_COMMENT)
    )
)
# Board-level actions that change what every card of the board maps to (list names and states,
# label names, custom field options, the board itself): the board's cards are listed again.
STRUCTURE_ACTION_TYPES = frozenset(
    {
        "createList",
        "updateList",
        "moveListToBoard",
        "moveListFromBoard",
        "updateLabel",
        "deleteLabel",
        "updateCustomField",
        "deleteCustomField",
        "updateBoard",
    }
)

Progress = Callable[[int], None]


def board_cursor_scope(board_id: str) -> str:
    return f"board:{board_id.lower()}"


@dataclass
class _Batch:
    """What one board (or one delivery) contributes, applied in one transaction."""

    projects: dict[str, Project] = field(default_factory=dict)
    items: dict[str, WorkItem] = field(default_factory=dict)
    milestones: list[Milestone] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    activity: dict[str, Activity] = field(default_factory=dict)
    comments_deleted: set[str] = field(default_factory=set)
    deleted: dict[str, datetime] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    cursor_board: str | None = None
    cursor: dict[str, str | None] | None = None


class TrelloSync:
    def __init__(
        self,
        store: Store,
        *,
        source: Source,
        client: TrelloClient,
        summary: SyncSummary,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        progress: Progress | None = None,
    ) -> None:
        if source.id is None:
            raise ValueError("a stored source is needed")
        self._store = store
        self._source_id: int = source.id
        self._client = client
        self._summary = summary
        self._now = now
        self._progress = progress
        self._settings = TrelloSyncSettings.from_settings(source.settings)
        self._contexts: dict[str, BoardContext] = {}

    # -- entry points ---------------------------------------------------------------------------

    def run(self, *, full: bool) -> None:
        """A full sync (every board, then the census) or an incremental one (actions since cursors)."""
        if full or not self._settings.scope:
            self._run_full()
        else:
            self._run_incremental()

    def census(self) -> None:
        """List every card of the boards in scope and reconcile what the store holds but Trello lacks."""
        if not self.scope:
            return
        boards = self._load_boards(self.scope)
        seen = {card.id for board_id in boards for card in self._client.iter_board_cards(board_id)}
        self._census().reconcile(seen, listed=set(boards), in_scope=set(boards))

    def apply_actions(self, actions: Sequence[TrelloAction]) -> None:
        """Apply card actions from outside a sync (a webhook): deletes directly, other cards re-read
        as they are now, and the changes the actions record. Cursors do not move."""
        batch = _Batch()
        self._collect(batch, actions, listed=())
        self._apply(batch)

    @property
    def scope(self) -> tuple[str, ...]:
        return self._settings.scope

    # -- full ------------------------------------------------------------------------------------

    def _run_full(self) -> None:
        board_ids = self._discover_scope()
        boards = self._load_boards(board_ids)
        seen: set[str] = set()
        pending: list[Change] = []
        for board_id in boards:
            listed, unapplied = self._sync_board_full(board_id)
            seen |= listed
            pending += unapplied
        if pending:
            # History of cards that moved to a board listed later in this run; the rest were deleted.
            self._apply(_Batch(changes=pending))
        self._census().reconcile(seen, listed=set(boards), in_scope=set(boards))

    def _discover_scope(self) -> tuple[str, ...]:
        if self._settings.board_ids:
            return self._settings.board_ids
        found = [board.id.lower() for board in self._client.list_member_boards("me", filter="open")]
        with transaction(self._store.sessions) as session:
            source = update_source_settings(
                session, source_id=self._source_id, settings={DISCOVERED_BOARDS_KEY: found}
            )
        self._settings = TrelloSyncSettings.from_settings(source.settings)
        return tuple(found)

    def _load_boards(self, board_ids: Sequence[str]) -> dict[str, BoardContext]:
        """Contexts of the boards still readable; a board gone or forbidden is left out."""
        loaded: dict[str, BoardContext] = {}
        for board_id, result in zip(board_ids, self._client.get_boards(board_ids), strict=True):
            if result.value is not None and result.ok:
                context = BoardContext.of(result.value, self._settings)
                self._contexts[context.board.id.lower()] = context
                loaded[context.board.id.lower()] = context
            elif result.status_code in GONE_STATUSES:
                self._summary.errors.append(f"board {board_id} is no longer readable ({result.status_code})")
            else:
                raise TransientError(
                    f"board {board_id} could not be read ({result.status_code})",
                    endpoint="GET /1/batch",
                    status_code=result.status_code,
                )
        return loaded

    def _sync_board_full(self, board_id: str) -> tuple[set[str], list[Change]]:
        """The board's cards and history; returns the card ids listed and the changes of cards not
        stored yet. Cards its history names but no longer lists are left to the other boards'
        listings and the census, not re-read one by one."""
        context = self._context(board_id)
        actions = [
            action
            for page in self._client.iter_board_actions(board_id, filter=HISTORY_ACTION_TYPES)
            for action in page
        ]
        cards = list(self._client.iter_board_cards(board_id, filter="all"))
        batch = _Batch(projects={board_id: map_board(context.board, source_id=self._source_id)})
        for card in cards:
            self._add_card(batch, card)
        self._collect(batch, actions, listed={card.id for card in cards}, reread=False)
        self._set_cursor(batch, board_id, actions)
        return {card.id for card in cards}, self._apply(batch)

    # -- incremental -----------------------------------------------------------------------------

    def _run_incremental(self) -> None:
        for board_id in self.scope:
            with self._store.sessions() as session:
                cursor = find_cursor(session, source_id=self._source_id, scope=board_cursor_scope(board_id))
            try:
                if cursor is None:
                    if self._load_boards([board_id]):
                        _, unapplied = self._sync_board_full(board_id)
                        self._apply(_Batch(changes=unapplied))
                else:
                    self._sync_board_since(board_id, cursor.get("action_id"))
            except (NotFoundError, AuthError) as exc:
                # A board deleted or closed to the token: the next full run's census reconciles it.
                self._summary.errors.append(f"board {board_id} skipped: {exc}")

    def _sync_board_since(self, board_id: str, since: str | None) -> None:
        actions = [
            action
            for page in self._client.iter_board_actions(board_id, since=since)
            for action in page
            if since is None or action.id.lower() > since.lower()
        ]
        if not actions:
            return
        batch = _Batch()
        card_ids = {action.data.card.id for action in actions if action.data.card is not None}
        with self._store.sessions() as session:
            stored = list_item_updated_at(session, source_id=self._source_id, external_ids=card_ids)
        listed: set[str] = set()
        if any(action.type in STRUCTURE_ACTION_TYPES for action in actions):
            # Lists, labels or the board changed: every card's status may have changed with them.
            self._contexts.pop(board_id, None)
            context = self._context(board_id)
            batch.projects[board_id] = map_board(context.board, source_id=self._source_id)
            for card in self._client.iter_board_cards(board_id, filter="all"):
                self._add_card(batch, card)
                listed.add(card.id)
        self._collect(batch, actions, listed=listed, fresh=stored)
        self._set_cursor(batch, board_id, actions)
        self._apply(batch)

    # -- collecting ------------------------------------------------------------------------------

    def _collect(
        self,
        batch: _Batch,
        actions: Iterable[TrelloAction],
        *,
        listed: Iterable[str],
        reread: bool = True,
        fresh: Mapping[str, datetime] | None = None,
    ) -> None:
        """Deletes and changes from actions; cards they touched and no listing covered are re-read.

        `fresh` holds when each stored card last had activity: a card stored as of the action or
        later already shows it (a full run reads history before it lists cards, so the first
        incremental run meets actions its listing covered) and is not read again.
        """
        fresh = fresh or {}
        ordered = sorted(actions, key=lambda action: action.id.lower())
        covered = set(listed)
        touched: dict[str, None] = {}
        for action in ordered:
            self._collect_activity(batch, action)
            card = action.data.card
            if card is None or action.type not in CARD_ACTION_TYPES:
                continue
            if action.type == "deleteCard":
                batch.deleted[card.id] = action.date
                touched.pop(card.id, None)
            elif (
                card.id not in covered
                and card.id not in batch.deleted
                and not (card.id in fresh and fresh[card.id] >= action.date)
            ):
                touched[card.id] = None
            batch.changes += map_action_changes(
                action, source_id=self._source_id, list_names=self._list_names(action)
            )
        if touched and reread:
            self._read_cards(batch, list(touched))

    def _collect_activity(self, batch: _Batch, action: TrelloAction) -> None:
        """The activity an action shows, or the comment it deletes (actions come oldest first)."""
        gone = deleted_comment_id(action)
        if gone is not None:
            batch.activity.pop(gone, None)
            batch.comments_deleted.add(gone)
            return
        activity = map_action_activity(action, source_id=self._source_id)
        if activity is None or activity.external_id in batch.comments_deleted:
            return
        known = batch.activity.get(activity.external_id)
        if known is None or activity.last_at > known.last_at:
            batch.activity[activity.external_id] = activity

    def _read_cards(self, batch: _Batch, card_ids: Sequence[str]) -> None:
        for card_id, result in zip(card_ids, self._client.get_cards(card_ids), strict=True):
            if result.value is not None and result.ok:
                self._add_card(batch, result.value)
            elif result.status_code == 404:
                batch.deleted.setdefault(card_id, self._now())
            elif result.status_code in GONE_STATUSES:
                batch.hidden.add(card_id)
            else:
                raise TransientError(
                    f"card {card_id} could not be read ({result.status_code})",
                    endpoint="GET /1/batch",
                    status_code=result.status_code,
                )

    def _add_card(self, batch: _Batch, card: TrelloCard) -> None:
        board_id = card.id_board.lower()
        if board_id not in self.scope:
            # Moved to a board that is not synced: it still exists, out of sight.
            batch.hidden.add(card.id)
            return
        context = self._context(board_id)
        batch.projects.setdefault(board_id, map_board(context.board, source_id=self._source_id))
        item = map_card(card, context=context, source_id=self._source_id)
        batch.items[item.external_id] = item
        batch.hidden.discard(card.id)
        milestone = card_milestone(item, card, context=context)
        if milestone is not None:
            batch.milestones.append(milestone)

    def _list_names(self, action: TrelloAction) -> Mapping[str, str] | None:
        """Names of the action's board lists when loaded: moves recorded without names still read well."""
        board = action.data.board
        context = self._contexts.get(board.id.lower()) if board is not None else None
        return context.list_names if context is not None else None

    def _context(self, board_id: str) -> BoardContext:
        key = board_id.lower()
        if key not in self._contexts:
            board = self._client.get_board(board_id)
            self._contexts[key] = BoardContext.of(board, self._settings)
        return self._contexts[key]

    @staticmethod
    def _set_cursor(batch: _Batch, board_id: str, actions: Sequence[TrelloAction]) -> None:
        """The newest action read; none yet means the next run reads the board's whole feed."""
        batch.cursor_board = board_id
        if not actions:
            batch.cursor = {"action_id": None, "date": None}
            return
        newest = max(actions, key=lambda action: action.id.lower())
        batch.cursor = {"action_id": newest.id, "date": newest.date.isoformat()}

    # -- applying --------------------------------------------------------------------------------

    def _apply(self, batch: _Batch) -> list[Change]:
        """Write the batch in one transaction; returns the changes of cards the store does not hold."""
        items = list(batch.items.values())
        at = self._now()
        with transaction(self._store.sessions) as session:
            upsert_projects(session, projects=list(batch.projects.values()))
            upsert_milestones(session, source_id=self._source_id, milestones=batch.milestones, observed_at=at)
            written = upsert_work_items(session, source_id=self._source_id, items=items)
            refreshed = refresh_board_derived_fields(session, source_id=self._source_id, items=items)
            # Actions also name cards the store never held (deleted before the first sync): skip those.
            known = list_item_keys_by_external_id(
                session, source_id=self._source_id, external_ids={c.item_external_id for c in batch.changes}
            )
            changes = [change for change in batch.changes if change.item_external_id in known]
            unknown = [change for change in batch.changes if change.item_external_id not in known]
            added = upsert_work_items(session, source_id=self._source_id, items=(), changes=changes)
            stamp_done_times(
                session,
                source_id=self._source_id,
                external_ids={*batch.items, *(c.item_external_id for c in changes)},
            )
            active = save_activity(
                session, source_id=self._source_id, activities=list(batch.activity.values())
            )
            active += delete_activity(session, source_id=self._source_id, external_ids=batch.comments_deleted)
            deleted = sum(
                self._mark(session, [card_id], Visibility.DELETED, when)
                for card_id, when in batch.deleted.items()
            )
            hidden = self._mark(session, sorted(batch.hidden), Visibility.HIDDEN, at)
            if batch.cursor_board is not None and batch.cursor is not None:
                save_cursor(
                    session,
                    source_id=self._source_id,
                    scope=board_cursor_scope(batch.cursor_board),
                    position=dict(batch.cursor),
                    now=at,
                )
        changed = list(dict.fromkeys([*written.changed_item_ids, *refreshed]))
        self._summary.items_seen += len(items)
        self._summary.items_changed += len(changed)
        self._summary.changes_added += added.changes_added
        self._summary.activity_changed += len(set(active))
        self._summary.items_deleted += deleted
        self._summary.items_hidden += hidden
        self._summary.changed_item_ids.extend(changed)
        if self._progress is not None:
            self._progress(len(items))
        return unknown

    def _mark(self, session: Session, card_ids: list[str], visibility: Visibility, at: datetime) -> int:
        return mark_items_visibility(
            session, source_id=self._source_id, external_ids=card_ids, visibility=visibility, at=at
        )

    def _census(self) -> TrelloCensus:
        return TrelloCensus(
            self._store, source_id=self._source_id, client=self._client, summary=self._summary, now=self._now
        )
