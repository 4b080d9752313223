"""The Trello world: every object the fake serves, and mutations that record Trello actions and webhooks."""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections.abc import Callable
from datetime import datetime

from sandbox.clock import SandboxClock
from sandbox.emit import WebhookSink
from sandbox.trello import actions as build
from sandbox.trello.errors import NOT_FOUND, TrelloWorldError
from sandbox.trello.ids import ObjectIdFactory, is_object_id, make_short_link
from sandbox.trello.models import (
    Action,
    Board,
    Card,
    CheckItem,
    Checklist,
    CustomField,
    Label,
    Member,
    Organization,
    TrelloList,
    Webhook,
)
from sandbox.trello.ratelimit import TrelloRateLimiter
from sandbox.trello.webhooks import deliveries_for, head_status


class TrelloWorld:
    """All state of one fake Trello: one API key, its tokens, one workspace of boards.

    Every mutation runs under `lock`, records the actions Trello would record and hands a signed
    delivery per matching webhook to `sink`. `rate_limiter` and `verify_callback` are replaceable.
    """

    def __init__(
        self, *, clock: SandboxClock, sink: WebhookSink, api_key: str, token: str, app_secret: str
    ) -> None:
        self.clock = clock
        self.sink = sink
        self.api_key = api_key
        self.app_secret = app_secret
        self.lock = threading.RLock()
        self.ids = ObjectIdFactory(seed=api_key)
        self.rate_limiter = TrelloRateLimiter()
        # Trello HEAD-probes a callback before creating a webhook; tests may swap the probe.
        self.verify_callback: Callable[[str], int | None] = head_status
        self.members: dict[str, Member] = {}
        self.organizations: dict[str, Organization] = {}
        self.boards: dict[str, Board] = {}
        self.lists: dict[str, TrelloList] = {}
        self.labels: dict[str, Label] = {}
        self.custom_fields: dict[str, CustomField] = {}
        self.checklists: dict[str, Checklist] = {}
        self.cards: dict[str, Card] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.board_actions: dict[str, list[Action]] = {}
        self.card_actions: dict[str, list[Action]] = {}
        self._short_links: dict[str, str] = {}
        self.me = self.add_member("pmbridge.integration", "Agency Integration")
        self.tokens: dict[str, str] = {token: self.me.id}

    # ---- building blocks (the scenario uses these; they record no action) ----

    def new_id(self, at: datetime | None = None) -> str:
        return self.ids.new(at if at is not None else self.clock.now())

    def _short_link_for(self, object_id: str) -> str:
        short_link = make_short_link(
            int(hashlib.sha1(object_id.encode(), usedforsecurity=False).hexdigest(), 16)
        )
        self._short_links[short_link] = object_id
        return short_link

    def add_token(self, token: str, *, member_id: str | None = None) -> None:
        self.tokens[token] = member_id or self.me.id

    def add_member(self, username: str, full_name: str, *, at: datetime | None = None) -> Member:
        member_id = self.new_id(at)
        initials = "".join(part[0] for part in full_name.split()[:2]).upper()
        avatar = hashlib.md5(username.encode(), usedforsecurity=False).hexdigest()
        member = Member(member_id, username, full_name, initials, avatar, f"{username}@example.com")
        self.members[member_id] = member
        return member

    def add_organization(self, name: str, display_name: str, *, at: datetime | None = None) -> Organization:
        org = Organization(self.new_id(at), name, display_name)
        self.organizations[org.id] = org
        return org

    def add_board(
        self, name: str, *, organization: Organization | None, creator: Member, at: datetime | None = None
    ) -> Board:
        board_id = self.new_id(at)
        board = Board(
            board_id,
            name,
            self._short_link_for(board_id),
            organization.id if organization else None,
            date_last_activity=at or self.clock.now(),
            id_member_creator=creator.id,
            member_ids=[creator.id] if creator.id == self.me.id else [self.me.id, creator.id],
        )
        self.boards[board_id] = board
        self.board_actions[board_id] = []
        return board

    def add_list(
        self, board: Board, name: str, *, closed: bool = False, at: datetime | None = None
    ) -> TrelloList:
        pos = 16384.0 * (len(board.list_ids) + 1)
        trello_list = TrelloList(self.new_id(at), board.id, name, pos, closed)
        self.lists[trello_list.id] = trello_list
        board.list_ids.append(trello_list.id)
        return trello_list

    def add_label(self, board: Board, name: str, color: str | None, *, at: datetime | None = None) -> Label:
        label = Label(self.new_id(at), board.id, name, color)
        self.labels[label.id] = label
        board.label_ids.append(label.id)
        return label

    def add_custom_field(self, board: Board, custom_field: CustomField) -> None:
        self.custom_fields[custom_field.id] = custom_field
        board.custom_field_ids.append(custom_field.id)

    def add_checklist(self, card: Card, checklist: Checklist) -> None:
        self.checklists[checklist.id] = checklist
        card.id_checklists.append(checklist.id)

    def add_card(self, board: Board, trello_list: TrelloList, name: str, *, at: datetime) -> Card:
        card_id = self.new_id(at)
        card = Card(
            id=card_id,
            id_board=board.id,
            id_list=trello_list.id,
            id_short=board.next_id_short,
            short_link=self._short_link_for(card_id),
            name=name,
            pos=65536.0 * board.next_id_short,
            date_last_activity=at,
        )
        board.next_id_short += 1
        board.card_ids[card_id] = None
        self.cards[card_id] = card
        return card

    def insert_history(self, history: list[Action]) -> None:
        """Store past actions: ids follow their dates so id order and date order agree, as on Trello."""
        history.sort(key=lambda action: action.date)
        for action in history:
            action.id = self.ids.new(action.date)
            self._index(action)
        for board_id, feed in self.board_actions.items():
            if feed:
                self.boards[board_id].date_last_activity = feed[-1].date

    # ---- lookups ----

    def find_board(self, ref: str) -> Board | None:
        return self.boards.get(ref.lower() if is_object_id(ref) else self._short_links.get(ref, ""))

    def find_card(self, ref: str) -> Card | None:
        return self.cards.get(ref.lower() if is_object_id(ref) else self._short_links.get(ref, ""))

    def member_for_token(self, token: str) -> Member | None:
        member_id = self.tokens.get(token)
        return self.members.get(member_id) if member_id else None

    def label_name_for_color(self, board: Board, color: str) -> str:
        for label_id in board.label_ids:
            label = self.labels[label_id]
            if label.color == color:
                return label.name
        return ""

    def board_label(self, board: Board, ref: str) -> Label | None:
        """A label of the board by id or by case-insensitive name (`blocked`, `milestone`, …)."""
        for label_id in board.label_ids:
            label = self.labels[label_id]
            if label.id == ref or label.name.lower() == ref.lower():
                return label
        return None

    # ---- mutations: each records Trello's actions and delivers webhooks ----

    def _now_action(self, action: Action) -> Action:
        action.id = self.ids.new(action.date)
        self._index(action)
        self._deliver(action)
        return action

    def _index(self, action: Action) -> None:
        bisect.insort(self.board_actions[action.id_board], action, key=lambda stored: stored.id)
        if action.id_card is not None:
            self.card_actions.setdefault(action.id_card, []).append(action)
            card = self.cards.get(action.id_card)
            if card is not None and card.id_board == action.id_board:
                card.date_last_activity = action.date

    def _on(self, card_id: str, actor_id: str | None) -> build.On:
        card = self.find_card(card_id)
        if card is None:
            raise TrelloWorldError(404, NOT_FOUND)
        board = self.boards[card.id_board]
        return build.On(self.clock.now(), self._actor(board, actor_id), board, self.lists[card.id_list], card)

    def _actor(self, board: Board, actor_id: str | None) -> Member:
        if actor_id is not None:
            member = self.members.get(actor_id)
            if member is None:
                raise TrelloWorldError(400, "invalid value for idMemberCreator")
            return member
        # Changes look made by a person on the board, not by the integration that reads them.
        people = [member_id for member_id in board.member_ids if member_id != self.me.id]
        return self.members[people[0] if people else self.me.id]

    def create_card(
        self,
        board_id: str,
        list_id: str,
        name: str,
        *,
        due: datetime | None = None,
        actor_id: str | None = None,
    ) -> list[Action]:
        board = self.find_board(board_id)
        trello_list = self.lists.get(list_id)
        if board is None or trello_list is None or trello_list.id_board != board.id:
            raise TrelloWorldError(404, NOT_FOUND)
        actor, now = self._actor(board, actor_id), self.clock.now()
        card = self.add_card(board, trello_list, name, at=now)
        recorded = [self._now_action(build.create_card(build.On(now, actor, board, trello_list, card)))]
        if due is not None:
            recorded.append(self.set_date(card.id, "due", due, actor_id=actor.id))
        return recorded

    def move_card(self, card_id: str, list_id: str, *, actor_id: str | None = None) -> Action:
        on = self._on(card_id, actor_id)
        after = self.lists.get(list_id)
        if after is None or after.id_board != on.board.id:
            raise TrelloWorldError(400, "invalid value for idList")
        on.card.id_list = after.id
        return self._now_action(build.move_card(on, on.trello_list, after))

    def set_date(
        self, card_id: str, field: str, value: datetime | None, *, actor_id: str | None = None
    ) -> Action:
        """Set `due` or `start`."""
        on = self._on(card_id, actor_id)
        old = on.card.due if field == "due" else on.card.start
        action = build.change_date(on, field, old, value)
        if field == "due":
            on.card.due = value
        else:
            on.card.start = value
        return self._now_action(action)

    def set_flag(self, card_id: str, field: str, value: bool, *, actor_id: str | None = None) -> Action:
        """Set `closed` (archive) or `dueComplete`."""
        on = self._on(card_id, actor_id)
        action = build.change_flag(on, field, value)
        if field == "closed":
            on.card.closed = value
        else:
            on.card.due_complete = value
        return self._now_action(action)

    def set_card_member(
        self, card_id: str, member_id: str, *, added: bool, actor_id: str | None = None
    ) -> Action | None:
        """Add or remove a member; None when the card already was in that state (Trello records nothing)."""
        on = self._on(card_id, actor_id)
        member = self.members.get(member_id)
        if member is None or member_id not in on.board.member_ids:
            raise TrelloWorldError(400, "invalid value for idMember")
        if (member_id in on.card.id_members) == added:
            return None
        if added:
            on.card.id_members.append(member_id)
        else:
            on.card.id_members.remove(member_id)
        return self._now_action(build.member_on_card(on, member, added=added))

    def set_card_label(
        self, card_id: str, label_ref: str, *, added: bool, actor_id: str | None = None
    ) -> Action | None:
        """Add or remove a label by id or name; None when nothing changes."""
        on = self._on(card_id, actor_id)
        label = self.board_label(on.board, label_ref)
        if label is None:
            raise TrelloWorldError(400, "invalid value for value")
        if (label.id in on.card.id_labels) == added:
            return None
        if added:
            on.card.id_labels.append(label.id)
            label.uses += 1
        else:
            on.card.id_labels.remove(label.id)
            label.uses -= 1
        return self._now_action(build.label_on_card(on, label, added=added))

    def comment(self, card_id: str, text: str, *, actor_id: str | None = None) -> Action:
        on = self._on(card_id, actor_id)
        if not text:
            raise TrelloWorldError(400, "invalid value for text")
        on.card.comments += 1
        return self._now_action(build.comment_card(on, text))

    def copy_card(
        self, card_id: str, list_id: str, name: str | None = None, *, actor_id: str | None = None
    ) -> Action:
        """A new card on `list_id` (of the same board) copied from `card_id`: its name unless
        `name`, its due date, labels and members, as Trello copies them by default."""
        on = self._on(card_id, actor_id)
        target = self.lists.get(list_id)
        if target is None or target.id_board != on.board.id:
            raise TrelloWorldError(400, "invalid value for idList")
        source = on.card
        copy = self.add_card(on.board, target, name or source.name, at=on.at)
        copy.due, copy.start = source.due, source.start
        copy.id_labels = list(source.id_labels)
        for label_id in copy.id_labels:
            self.labels[label_id].uses += 1
        copy.id_members = list(source.id_members)
        return self._now_action(build.copy_card(build.On(on.at, on.actor, on.board, target, copy), source))

    def add_card_checklist(self, card_id: str, name: str, *, actor_id: str | None = None) -> Action:
        on = self._on(card_id, actor_id)
        position = 16384.0 * (len(on.card.id_checklists) + 1)
        checklist = Checklist(self.new_id(on.at), on.board.id, on.card.id, name, position)
        self.add_checklist(on.card, checklist)
        return self._now_action(build.add_checklist(on, checklist))

    def add_check_item(self, checklist_id: str, name: str, *, actor_id: str | None = None) -> Action:
        checklist = self.checklists.get(checklist_id)
        if checklist is None:
            raise TrelloWorldError(404, NOT_FOUND)
        on = self._on(checklist.id_card, actor_id)
        item = CheckItem(self.new_id(on.at), name, 16384.0 * (len(checklist.items) + 1))
        checklist.items.append(item)
        return self._now_action(build.create_check_item(on, checklist, item))

    def set_check_item_state(
        self, card_id: str, check_item_id: str, *, complete: bool, actor_id: str | None = None
    ) -> Action | None:
        """Tick or untick a checklist item of the card; None when it already was (Trello records nothing)."""
        on = self._on(card_id, actor_id)
        for checklist_id in on.card.id_checklists:
            checklist = self.checklists[checklist_id]
            for item in checklist.items:
                if item.id == check_item_id:
                    if item.complete == complete:
                        return None
                    item.complete = complete
                    return self._now_action(build.check_item_state(on, checklist, item))
        raise TrelloWorldError(404, NOT_FOUND)

    def delete_card(self, card_id: str, *, actor_id: str | None = None) -> Action:
        on = self._on(card_id, actor_id)
        action = self._now_action(build.delete_card(on))
        self.forget_card(on.card)
        return action

    def relocate_card(self, card: Card, target: Board, target_list: TrelloList) -> None:
        """Put a card on another board; it gets the next idShort there."""
        # Labels follow the card when the target board has one of the same name and color.
        kept: list[str] = []
        for label_id in card.id_labels:
            label = self.labels[label_id]
            label.uses -= 1
            twin = self.board_label(target, label.name) if label.name else None
            if twin is not None and twin.color == label.color:
                twin.uses += 1
                kept.append(twin.id)
        card.id_labels = kept
        del self.boards[card.id_board].card_ids[card.id]
        card.id_board, card.id_list, card.id_short = target.id, target_list.id, target.next_id_short
        target.next_id_short += 1
        target.card_ids[card.id] = None
        for checklist_id in card.id_checklists:
            self.checklists[checklist_id].id_board = target.id

    def forget_card(self, card: Card) -> None:
        """Drop a deleted card; its actions stay, as on Trello."""
        for label_id in card.id_labels:
            self.labels[label_id].uses -= 1
        for checklist_id in card.id_checklists:
            del self.checklists[checklist_id]
        del self.boards[card.id_board].card_ids[card.id]
        del self.cards[card.id]

    def move_card_to_board(
        self, card_id: str, board_id: str, list_id: str | None = None, *, actor_id: str | None = None
    ) -> list[Action]:
        on = self._on(card_id, actor_id)
        card, source = on.card, on.board
        target = self.find_board(board_id)
        if target is None or target.id == source.id:
            raise TrelloWorldError(400, "invalid value for idBoard")
        open_lists = [self.lists[lid] for lid in target.list_ids if not self.lists[lid].closed]
        target_list = self.lists.get(list_id) if list_id else (open_lists[0] if open_lists else None)
        if target_list is None or target_list.id_board != target.id:
            raise TrelloWorldError(400, "invalid value for idList")
        self.relocate_card(card, target, target_list)
        moved_from, moved_to = build.move_between_boards(on, target, target_list)
        return [self._now_action(moved_from), self._now_action(moved_to)]

    # ---- webhooks ----

    def _deliver(self, action: Action) -> None:
        if self.webhooks:
            for delivery in deliveries_for(self, action):
                self.sink(delivery)
