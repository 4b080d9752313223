"""Seeded Trello scenario: an agency's client boards with a history of actions that replays to the cards.

Each card's life is simulated in time order (created, assigned, labelled, dated, moved across lists,
dates slipped, commented, completed, archived or deleted, sometimes moved in from a sibling board);
every step records the action Trello would have recorded, so the feed and the cards always agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.trello import actions as build
from sandbox.trello import scenario_data as words
from sandbox.trello.ids import slugify
from sandbox.trello.models import (
    Action,
    Board,
    Card,
    CheckItem,
    Checklist,
    CustomField,
    CustomFieldItem,
    CustomFieldOption,
    Label,
    Member,
    TrelloList,
)
from sandbox.trello.state import TrelloWorld

_DONE = 4  # index of "Done" in OPEN_LISTS


@dataclass
class _BoardKit:
    board: Board
    client: str
    lists: list[TrelloList]  # the open workflow lists, Backlog … Done
    archived: list[TrelloList]
    labels: dict[str, Label]
    fields: list[CustomField]
    people: list[Member]


def populate_trello(
    world: TrelloWorld,
    rng: random.Random,
    *,
    clients: list[str],
    boards: int,
    cards_per_board: int,
    days_of_history: int,
) -> None:
    """Add `boards` client boards (round-robin over `clients`) of `cards_per_board` cards each."""
    if not clients:
        raise ValueError("at least one client is needed")
    now = world.clock.now()
    origin = now - timedelta(days=max(days_of_history, 1))
    setup = origin - timedelta(days=7)
    org = world.add_organization("agency-delivery", "Agency Delivery", at=setup)
    people = [world.add_member(username, name, at=setup) for username, name in words.PEOPLE]
    kits = [
        _make_board(world, rng, index=index, clients=clients, org_id=org.id, people=people, at=setup)
        for index in range(boards)
    ]
    history: list[Action] = []
    for kit in kits:
        siblings = [other for other in kits if other.client == kit.client and other is not kit]
        for _ in range(cards_per_board):
            _CardLife(world, rng, kit=kit, siblings=siblings, origin=origin, now=now, history=history).live()
    world.insert_history(history)


def _make_board(
    world: TrelloWorld,
    rng: random.Random,
    *,
    index: int,
    clients: list[str],
    org_id: str,
    people: list[Member],
    at: datetime,
) -> _BoardKit:
    client = clients[index % len(clients)]
    project = words.PROJECTS[(index // len(clients)) % len(words.PROJECTS)]
    team = rng.sample(people, k=min(len(people), rng.randint(3, 5)))
    board = world.add_board(
        f"{client} - {project}", organization=world.organizations[org_id], creator=team[0], at=at
    )
    board.desc = f"Delivery board for {client}: {project.lower()}."
    board.member_ids.extend(member.id for member in team[1:])
    lists = [world.add_list(board, name, at=at) for name in words.OPEN_LISTS]
    archived = [world.add_list(board, name, closed=True, at=at) for name in words.ARCHIVED_LISTS]
    labels = {name: world.add_label(board, name, color, at=at) for name, color in words.LABELS}
    fields = _make_custom_fields(world, board, at)
    return _BoardKit(board, client, lists, archived, labels, fields, team)


def _make_custom_fields(world: TrelloWorld, board: Board, at: datetime) -> list[CustomField]:
    priority = CustomField(world.new_id(at), board.id, "Priority", "list", 16384.0)
    priority.options = [
        CustomFieldOption(world.new_id(at), text, color, 16384.0 * (n + 1))
        for n, (text, color) in enumerate(words.PRIORITIES)
    ]
    fields = [
        priority,
        CustomField(world.new_id(at), board.id, "Estimate (h)", "number", 32768.0),
        CustomField(world.new_id(at), board.id, "Client visible", "checkbox", 49152.0),
        CustomField(world.new_id(at), board.id, "Sign-off date", "date", 65536.0),
        CustomField(world.new_id(at), board.id, "Ticket", "text", 81920.0),
    ]
    for custom_field in fields:
        world.add_custom_field(board, custom_field)
    return fields


class _CardLife:
    """One card, lived step by step; `history` collects the actions in the order they happened."""

    def __init__(
        self,
        world: TrelloWorld,
        rng: random.Random,
        *,
        kit: _BoardKit,
        siblings: list[_BoardKit],
        origin: datetime,
        now: datetime,
        history: list[Action],
    ) -> None:
        self.world, self.rng, self.kit, self.siblings = world, rng, kit, siblings
        self.origin, self.now, self.history = origin, now, history
        self.card: Card | None = None
        self.at = origin

    def _on(self, at: datetime, actor: Member | None = None) -> build.On:
        card = self.card
        assert card is not None
        board = self.world.boards[card.id_board]
        who = actor or self.rng.choice(self.kit.people)
        return build.On(at, who, board, self.world.lists[card.id_list], card)

    def _record(self, action: Action) -> None:
        self.history.append(action)

    def _next(self, share: float = 0.3) -> datetime:
        """A moment after the previous step: a random share of the time left, so steps cluster early."""
        end = self.now - timedelta(minutes=1)
        left = max((end - self.at).total_seconds(), 0.0)
        self.at = min(end, self.at + timedelta(seconds=left * share * self.rng.random() + 1))
        return self.at

    def live(self) -> None:
        rng, kit = self.rng, self.kit
        span = (self.now - self.origin).total_seconds()
        # Skew creation towards the past so that most history has time to unfold; leave the last
        # minutes free so that every later step still happens before now.
        created = self.origin + timedelta(
            seconds=max(span - 300.0, 0.0) * rng.random() ** 1.3, milliseconds=rng.randint(0, 999)
        )
        self.at = created
        milestone = rng.random() < 0.06
        name = (
            f"Milestone: {rng.choice(words.MILESTONES)}"
            if milestone
            else f"{rng.choice(words.VERBS)} {rng.choice(words.OBJECTS)}"
        )
        if rng.random() < 0.03:
            self._live_in_archived_list(created, name)
            return
        age = (self.now - created).total_seconds() / max(span, 1.0)
        start_stage = 0 if rng.random() < 0.55 else 1
        target = max(start_stage, min(_DONE, int(rng.random() * 2.2 + age * 3.2)))
        moved_in_from = rng.choice(self.siblings) if self.siblings and rng.random() < 0.02 else None
        home = moved_in_from or kit
        card = self.world.add_card(home.board, home.lists[start_stage], name, at=created)
        card.desc = rng.choice(words.DESCRIPTIONS)
        self.card = card
        self._record(build.create_card(self._on(created)))
        if moved_in_from is not None:
            self._move_in(moved_in_from, start_stage)
        self._setup(milestone)
        self._progress(start_stage, target)
        self._finish(target)

    def _live_in_archived_list(self, created: datetime, name: str) -> None:
        """Cards left behind in an old list that was archived later: open cards, hidden from `visible`."""
        old_list = self.rng.choice(self.kit.archived)
        self.card = self.world.add_card(self.kit.board, old_list, name, at=created)
        self._record(build.create_card(self._on(created)))
        if self.rng.random() < 0.5:
            self._set_flag("closed", True)

    def _move_in(self, source: _BoardKit, stage: int) -> None:
        on = self._on(self._next(0.05))
        target_list = self.kit.lists[stage]
        self.world.relocate_card(on.card, self.kit.board, target_list)
        for action in build.move_between_boards(on, self.kit.board, target_list):
            self._record(action)

    def _setup(self, milestone: bool) -> None:
        rng, card = self.rng, self._card()
        for member in rng.sample(self.kit.people, k=rng.choice((0, 1, 1, 1, 2))):
            card.id_members.append(member.id)
            self._record(build.member_on_card(self._on(self._next(0.05)), member, added=True))
        wanted = ["Milestone"] if milestone else []
        wanted += [name for name, chance in _LABEL_CHANCES if rng.random() < chance]
        for name in wanted:
            self._label(name, added=True, share=0.05)
        if rng.random() < 0.3:
            start = self.at + timedelta(days=rng.randint(0, 10))
            self._set_date("start", start.replace(hour=9, minute=0, second=0, microsecond=0), share=0.05)
        if milestone or rng.random() < 0.7:
            due = self.at + timedelta(days=rng.randint(7, 45))
            self._set_date("due", due.replace(hour=rng.randint(9, 18), minute=0, second=0, microsecond=0))
        if rng.random() < 0.5:
            self._fill_custom_fields()
        if rng.random() < 0.3:
            self._add_checklist()

    def _progress(self, stage: int, target: int) -> None:
        rng, card = self.rng, self._card()
        lists = self.kit.lists
        slips = 0
        while stage < target:
            if rng.random() < 0.25:
                self._comment()
            if card.due is not None and slips < 4 and rng.random() < 0.3:
                slips += 1
                self._slip_due()
            if rng.random() < 0.1 and self.kit.labels["Blocked"].id not in card.id_labels:
                self._label("Blocked", added=True)
                self._label("Blocked", added=False)
            if stage == 3 and rng.random() < 0.1:
                self._move(lists[2])
                self._move(lists[3])
            stage += 1
            self._move(lists[stage])
        if stage in {2, 3} and rng.random() < 0.15:
            self._label("Blocked", added=True)
        if card.due is not None and stage < _DONE and rng.random() < 0.2:
            self._slip_due()
        if rng.random() < 0.2:
            self._comment()

    def _finish(self, stage: int) -> None:
        rng, card = self.rng, self._card()
        done_share = {2: 0.4, 3: 0.8, _DONE: 1.0}.get(stage, 0.0)
        for checklist_id in card.id_checklists:
            for item in self.world.checklists[checklist_id].items:
                item.complete = rng.random() < done_share
        if stage == _DONE and card.due is not None and rng.random() < 0.85:
            self._set_flag("dueComplete", True)
        if stage == _DONE and (self.now - self.at).days > 14 and rng.random() < 0.45:
            self._set_flag("closed", True)
        if rng.random() < 0.02:
            self._record(build.delete_card(self._on(self._next())))
            self.world.forget_card(card)

    # ---- single steps ----

    def _card(self) -> Card:
        assert self.card is not None
        return self.card

    def _move(self, after: TrelloList) -> None:
        on = self._on(self._next())
        self._record(build.move_card(on, on.trello_list, after))
        on.card.id_list = after.id

    def _set_date(self, field: str, value: datetime, share: float = 0.3) -> None:
        on = self._on(self._next(share))
        old = on.card.due if field == "due" else on.card.start
        self._record(build.change_date(on, field, old, value))
        if field == "due":
            on.card.due = value
        else:
            on.card.start = value

    def _slip_due(self) -> None:
        due = self._card().due
        assert due is not None
        shift = self.rng.randint(3, 21) if self.rng.random() < 0.9 else -self.rng.randint(2, 5)
        self._set_date("due", due + timedelta(days=shift))

    def _set_flag(self, field: str, value: bool) -> None:
        on = self._on(self._next())
        self._record(build.change_flag(on, field, value))
        if field == "closed":
            on.card.closed = value
        else:
            on.card.due_complete = value

    def _label(self, name: str, *, added: bool, share: float = 0.3) -> None:
        label, card = self.kit.labels[name], self._card()
        if (label.id in card.id_labels) == added:
            return
        if added:
            card.id_labels.append(label.id)
            label.uses += 1
        else:
            card.id_labels.remove(label.id)
            label.uses -= 1
        self._record(build.label_on_card(self._on(self._next(share)), label, added=added))

    def _comment(self) -> None:
        self._card().comments += 1
        self._record(build.comment_card(self._on(self._next()), self.rng.choice(words.COMMENTS)))

    def _fill_custom_fields(self) -> None:
        rng, card, world = self.rng, self._card(), self.world
        priority, estimate, visible, sign_off, ticket = self.kit.fields
        at = self.at
        items = [CustomFieldItem(world.new_id(at), priority.id, id_value=rng.choice(priority.options).id)]
        items.append(
            CustomFieldItem(world.new_id(at), estimate.id, value={"number": str(rng.choice((2, 4, 8, 13)))})
        )
        if rng.random() < 0.5:
            items.append(CustomFieldItem(world.new_id(at), visible.id, value={"checked": "true"}))
        if card.due is not None and rng.random() < 0.4:
            sign_off_at = card.due - timedelta(days=2)
            items.append(
                CustomFieldItem(world.new_id(at), sign_off.id, value={"date": _iso_date(sign_off_at)})
            )
        items.append(
            CustomFieldItem(
                world.new_id(at),
                ticket.id,
                value={"text": f"{slugify(self.kit.client)[:3].upper()}-{rng.randint(100, 999)}"},
            )
        )
        card.custom_field_items = items

    def _add_checklist(self) -> None:
        rng, card, world = self.rng, self._card(), self.world
        checklist = Checklist(world.new_id(self.at), card.id_board, card.id, "Checklist", 16384.0)
        names = rng.sample(words.CHECKLIST_ITEMS, k=rng.randint(2, 6))
        checklist.items = [
            CheckItem(world.new_id(self.at), name, 16384.0 * (n + 1)) for n, name in enumerate(names)
        ]
        world.add_checklist(card, checklist)


_LABEL_CHANCES = (
    ("Feature", 0.45),
    ("Bug", 0.2),
    ("Client Request", 0.2),
    ("Design", 0.15),
    ("Content", 0.1),
)


def _iso_date(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.000Z"
