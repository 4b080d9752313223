"""Seeded Trello scenario: an agency's client boards whose cards and actions come from a simulated
delivery process (`sandbox.process`), the same one the Jira scenario is built from.

Work items become cards that move Backlog → To Do (planned) → Doing → Review → Done as the team works
them, get members as people pick them up or hand them over, the Blocked label while a dependency is
open, due dates the lead sets and moves, comments; each release is a milestone card whose due date is
the promised day. Every step records the action Trello would have recorded, so the feed and the cards
always agree. Some cards are only there to be what boards also hold: left in an archived list, moved in
from a sibling board, archived when long done, deleted.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sandbox.gcpause import collector_paused
from sandbox.process import Event, Item, ProjectHistory, Release, simulate_project, team_size_for
from sandbox.process.model import Kind
from sandbox.trello import actions as build
from sandbox.trello import scenario_data as words
from sandbox.trello.ids import slugify
from sandbox.trello.models import (
    Action,
    Card,
    CheckItem,
    Checklist,
    CustomFieldItem,
    Member,
    TrelloList,
)
from sandbox.trello.scenario_boards import BoardKit, make_board
from sandbox.trello.state import TrelloWorld

_BACKLOG, _TODO, _DOING, _REVIEW, _DONE = range(5)  # indexes in OPEN_LISTS
_STAGE_LIST = {"todo": _TODO, "doing": _DOING, "blocked": _DOING, "review": _REVIEW, "done": _DONE}
_KINDS: tuple[tuple[Kind, int], ...] = (("story", 80), ("bug", 20))


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
    # The history starts at the first midnight of the window, so it stays within `days_of_history`.
    first = now - timedelta(days=max(days_of_history, 1))
    origin = first.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    setup = origin - timedelta(days=7)
    org = world.add_organization("agency-delivery", "Agency Delivery", at=setup)
    people = [world.add_member(username, name, at=setup) for username, name in words.PEOPLE]
    kits = [
        make_board(world, rng, index=index, clients=clients, org_id=org.id, people=people, at=setup)
        for index in range(boards)
    ]
    history: list[Action] = []
    with collector_paused():
        _live_boards(
            world,
            rng,
            kits=kits,
            people=people,
            history=history,
            timing=(origin, now),
            cards_per_board=cards_per_board,
        )
        world.insert_history(history)


def _live_boards(
    world: TrelloWorld,
    rng: random.Random,
    *,
    kits: list[BoardKit],
    people: list[Member],
    history: list[Action],
    timing: tuple[datetime, datetime],
    cards_per_board: int,
) -> None:
    origin, now = timing
    days = max(round((now - origin).total_seconds() / 86_400), 1)
    for kit in kits:
        siblings = [other for other in kits if other.client == kit.client and other is not kit]
        size = team_size_for(rng, items=cards_per_board, days=days, largest=len(kit.people))
        spares = rng.sample(
            [p for p in people if p not in kit.people], k=min(2, len(people) - len(kit.people))
        )
        kit.board.member_ids.extend(member.id for member in spares)
        milestones = max(1, cards_per_board // 40)
        leftovers = round(cards_per_board * 0.03)
        process = simulate_project(
            random.Random(rng.random()),
            items=max(cards_per_board - milestones - leftovers, 0),
            now=(now - origin).total_seconds() / 86_400,
            weekday0=origin.weekday(),
            team_size=size,
            spare_people=len(spares),
            kinds=_KINDS,
            epics=False,
            sprints=False,
        )
        board = _BoardHistory(
            world, rng, kit=kit, people=kit.people[:size] + spares, origin=origin, now=now, history=history
        )
        for item in process.items:
            board.card_of(item, process, siblings)
        shown = process.releases[:milestones]
        for release in shown:
            board.milestone(release)
        for _ in range(leftovers + milestones - len(shown)):
            board.leftover()


class _BoardHistory:
    """One board's cards, each lived from the process's events; `history` collects the actions."""

    def __init__(
        self,
        world: TrelloWorld,
        rng: random.Random,
        *,
        kit: BoardKit,
        people: list[Member],
        origin: datetime,
        now: datetime,
        history: list[Action],
    ) -> None:
        self.world, self.rng, self.kit, self.people = world, rng, kit, people
        self.origin, self.now, self.history = origin, now, history
        self.card: Card | None = None
        self.at = origin

    def when(self, at: float) -> datetime:
        return self.origin + timedelta(days=at)

    def _actor(self, person: int | None) -> Member:
        return self.kit.people[0] if person is None else self.people[person]

    def _on(self, at: datetime, actor: Member | None = None) -> build.On:
        card = self._card()
        board = self.world.boards[card.id_board]
        who = actor or self.rng.choice(self.kit.people)
        return build.On(at, who, board, self.world.lists[card.id_list], card)

    def _record(self, action: Action) -> None:
        self.history.append(action)

    def _step(self, at: datetime | None = None, actor: Member | None = None) -> build.On:
        """The card at `at`, or a few seconds after the previous step (setup right after creation)."""
        self.at = at if at is not None else self.at + timedelta(seconds=self.rng.randint(5, 90))
        return self._on(self.at, actor)

    # ---- cards from the process ----

    def card_of(self, item: Item, process: ProjectHistory, siblings: list[BoardKit]) -> None:
        rng, kit = self.rng, self.kit
        created = self.when(item.created) + timedelta(milliseconds=rng.randint(0, 999))
        name = f"{rng.choice(words.VERBS)} {rng.choice(words.OBJECTS)}"
        moved_in_from = rng.choice(siblings) if siblings and rng.random() < 0.03 else None
        home = moved_in_from or kit
        card = self.world.add_card(home.board, home.lists[_BACKLOG], name, at=created)
        card.desc = rng.choice(words.DESCRIPTIONS)
        self.card, self.at = card, created
        self._record(build.create_card(self._on(created, self.kit.people[0])))
        if moved_in_from is not None:
            self._move_in(moved_in_from)
        self._setup(item)
        due_hour = rng.randint(9, 18)
        for event in item.events:
            self._apply(event, process, due_hour)
        self._finish(item)

    def _setup(self, item: Item) -> None:
        rng = self.rng
        wanted = ["Bug"] if item.kind == "bug" else []
        wanted += [name for name, chance in _LABEL_CHANCES if name != "Bug" and rng.random() < chance]
        for name in wanted:
            self._label(name, added=True)
        if rng.random() < 0.3:
            start = self.at + timedelta(days=rng.randint(0, 10))
            self._set_date("start", start.replace(hour=9, minute=0, second=0, microsecond=0))
        if rng.random() < 0.5:
            self._fill_custom_fields(item)
        if rng.random() < 0.3:
            self._add_checklist()

    def _apply(self, event: Event, process: ProjectHistory, due_hour: int) -> None:
        at, actor, value = self.when(event.at), self._actor(event.actor), event.value
        card, lists = self._card(), self.kit.lists
        if event.kind == "status":
            stage = str(value)
            if stage != "blocked" and self.kit.labels["Blocked"].id in card.id_labels:
                self._label("Blocked", added=False, at=at, actor=actor)
            if card.due_complete and stage != "done":
                self._set_flag("dueComplete", False, at=at, actor=actor)
            self._move(lists[_STAGE_LIST[stage]], at=at, actor=actor)
            if stage == "blocked":
                self._label("Blocked", added=True, at=at, actor=actor)
            if stage == "done" and card.due is not None and self.rng.random() < 0.85:
                self._set_flag("dueComplete", True, at=at, actor=actor)
        elif event.kind == "assignee":
            self._assign(None if not isinstance(value, int) else self.people[value], at, actor)
        elif event.kind == "version":
            planned_list, unplanned_list = (_BACKLOG, _TODO) if value is None else (_TODO, _BACKLOG)
            if card.id_list == lists[unplanned_list].id:
                self._move(lists[planned_list], at=at, actor=actor)
        elif event.kind == "due":
            due = None if not isinstance(value, int) else self.when(value).replace(hour=due_hour)
            self._set_date("due", due, at=at, actor=actor)
        elif event.kind == "priority" and isinstance(value, int):
            self._set_priority(value)
        elif event.kind == "comment":
            self._comment(str(value), at=at, actor=actor)
        elif event.kind == "touch":
            name = self.rng.choice(("Design", "Content"))
            added = self.kit.labels[name].id not in card.id_labels
            self._label(name, added=added, at=at, actor=actor)

    def _assign(self, member: Member | None, at: datetime, actor: Member) -> None:
        card = self._card()
        for member_id in list(card.id_members):
            if member is None or member_id != member.id:
                card.id_members.remove(member_id)
                gone = self.world.members[member_id]
                self._record(build.member_on_card(self._step(at, actor), gone, added=False))
        if member is not None and member.id not in card.id_members:
            card.id_members.append(member.id)
            self._record(build.member_on_card(self._step(at, actor), member, added=True))

    def _finish(self, item: Item) -> None:
        rng, card = self.rng, self._card()
        stage = next((str(e.value) for e in reversed(item.events) if e.kind == "status"), "todo")
        done_share = {"doing": 0.4, "blocked": 0.4, "review": 0.8, "done": 1.0}.get(stage, 0.0)
        for checklist_id in card.id_checklists:
            for check in self.world.checklists[checklist_id].items:
                check.complete = rng.random() < done_share
        last = self.when(item.events[-1].at) if item.events else self.at
        if stage == "done" and (self.now - last).days > 14 and rng.random() < 0.45:
            self._set_flag("closed", True, at=last + (self.now - last) * rng.uniform(0.3, 0.9))
        if rng.random() < 0.02:
            self._record(build.delete_card(self._step(self.at + (self.now - self.at) / 2)))
            self.world.forget_card(card)

    def milestone(self, release: Release) -> None:
        """A release as the team shows it on a board: a milestone card due on the promised day."""
        rng, kit = self.rng, self.kit
        created = self.when(release.planned_at)
        name = f"Milestone: {words.MILESTONES[release.index % len(words.MILESTONES)]}"
        self.card = self.world.add_card(kit.board, kit.lists[_TODO], name, at=created)
        self.at = created
        lead = kit.people[0]
        self._record(build.create_card(self._on(created, lead)))
        # Labelled and dated as it is created: a move may follow within seconds on a planning morning.
        self._label("Milestone", added=True, at=created, actor=lead)
        hour = rng.randint(9, 18)
        self._set_date("due", self.when(release.baseline).replace(hour=hour), at=created, actor=lead)
        for at, day in release.moves:
            self._set_date("due", self.when(day).replace(hour=hour), at=self.when(at), actor=lead)
        if release.released_at is not None:
            shipped = self.when(release.released_at)
            self._move(kit.lists[_DONE], at=shipped, actor=lead)
            self._set_flag("dueComplete", True, at=shipped, actor=lead)

    def leftover(self) -> None:
        """A card left behind in an old list that was archived later: open, hidden from `visible`."""
        span = (self.now - self.origin).total_seconds()
        created = self.origin + timedelta(seconds=max(span - 300.0, 0.0) * self.rng.random())
        old_list = self.rng.choice(self.kit.archived)
        name = f"{self.rng.choice(words.VERBS)} {self.rng.choice(words.OBJECTS)}"
        self.card = self.world.add_card(self.kit.board, old_list, name, at=created)
        self.at = created
        self._record(build.create_card(self._on(created)))
        if self.rng.random() < 0.5:
            self._set_flag("closed", True, at=created + (self.now - created) / 2)

    # ---- single steps ----

    def _card(self) -> Card:
        assert self.card is not None
        return self.card

    def _move_in(self, source: BoardKit) -> None:
        on = self._step()
        target_list = self.kit.lists[_BACKLOG]
        self.world.relocate_card(on.card, self.kit.board, target_list)
        for action in build.move_between_boards(on, self.kit.board, target_list):
            self._record(action)

    def _move(self, after: TrelloList, *, at: datetime, actor: Member) -> None:
        card = self._card()
        if card.id_list == after.id:
            return
        on = self._step(at, actor)
        self._record(build.move_card(on, on.trello_list, after))
        card.id_list = after.id

    def _set_date(
        self, field: str, value: datetime | None, *, at: datetime | None = None, actor: Member | None = None
    ) -> None:
        card = self._card()
        old = card.due if field == "due" else card.start
        if old == value:
            return
        self._record(build.change_date(self._step(at, actor), field, old, value))
        if field == "due":
            card.due = value
        else:
            card.start = value

    def _set_flag(self, field: str, value: bool, *, at: datetime, actor: Member | None = None) -> None:
        on = self._step(at, actor)
        self._record(build.change_flag(on, field, value))
        if field == "closed":
            on.card.closed = value
        else:
            on.card.due_complete = value

    def _label(
        self, name: str, *, added: bool, at: datetime | None = None, actor: Member | None = None
    ) -> None:
        label, card = self.kit.labels[name], self._card()
        if (label.id in card.id_labels) == added:
            return
        if added:
            card.id_labels.append(label.id)
            label.uses += 1
        else:
            card.id_labels.remove(label.id)
            label.uses -= 1
        self._record(build.label_on_card(self._step(at, actor), label, added=added))

    def _comment(self, topic: str, *, at: datetime, actor: Member) -> None:
        self._card().comments += 1
        text = self.rng.choice(words.TOPIC_COMMENTS.get(topic, words.COMMENTS))
        self._record(build.comment_card(self._step(at, actor), text))

    def _set_priority(self, priority: int) -> None:
        field = self.kit.fields[0]
        for entry in self._card().custom_field_items:
            if entry.id_custom_field == field.id:
                entry.id_value = field.options[_PRIORITY_OPTION[priority]].id

    def _fill_custom_fields(self, item: Item) -> None:
        rng, card, world = self.rng, self._card(), self.world
        priority, estimate, visible, sign_off, ticket = self.kit.fields
        at = self.at
        option = priority.options[_PRIORITY_OPTION[item.initial_priority]]
        items = [CustomFieldItem(world.new_id(at), priority.id, id_value=option.id)]
        hours = max(1, round(item.estimate * 8))
        items.append(CustomFieldItem(world.new_id(at), estimate.id, value={"number": str(hours)}))
        if rng.random() < 0.5:
            items.append(CustomFieldItem(world.new_id(at), visible.id, value={"checked": "true"}))
        if item.due is not None and rng.random() < 0.4:
            sign_off_at = self.when(item.due) - timedelta(days=2)
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


# Priority custom field options are High, Medium, Low; process priorities run 1 (highest) to 5.
_PRIORITY_OPTION = {1: 0, 2: 0, 3: 1, 4: 2, 5: 2}


def _iso_date(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.000Z"
