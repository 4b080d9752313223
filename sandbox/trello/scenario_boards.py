"""The boards of the Trello scenario: lists, labels, custom fields and a team per board."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sandbox.trello import scenario_data as words
from sandbox.trello.models import Board, CustomField, CustomFieldOption, Label, Member, TrelloList
from sandbox.trello.state import TrelloWorld


@dataclass
class BoardKit:
    board: Board
    client: str
    lists: list[TrelloList]  # the open workflow lists, Backlog … Done
    archived: list[TrelloList]
    labels: dict[str, Label]
    fields: list[CustomField]
    people: list[Member]


def make_board(
    world: TrelloWorld,
    rng: random.Random,
    *,
    index: int,
    clients: list[str],
    org_id: str,
    people: list[Member],
    at: datetime,
) -> BoardKit:
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
    return BoardKit(board, client, lists, archived, labels, fields, team)


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
