"""Trello sync benchmark: 20 boards x 500 cards with their action histories, then incremental runs.

Run: .venv/bin/python bench/bench_trello_sync.py [--boards 20 --cards 500]

The sandbox runs in a child process with Trello's real rate limits (100 requests per 10 s per
token, 300 per key); pmbridge syncs into a fresh embedded SQLite database. Reported: API calls
against the lower bound the API allows (one member-boards call, board details 10 per batch call,
card pages of 1,000, history action pages of 1,000 of the action types the sync reads), wall time,
cards per second; then an incremental run with nothing changed and one after a few card moves.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import random
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.clock import SandboxClock
from sandbox.dispatcher import WebhookDispatcher
from sandbox.emit import CollectingSink
from sandbox.jira.settings import JiraCredentials
from sandbox.jira.state import JiraWorld
from sandbox.server import LoopbackServer
from sandbox.trello.scenario import populate_trello
from sandbox.trello.state import TrelloWorld
from service.domain.enums import SourceKind
from service.settings import Settings
from service.store.runtime import open_store
from service.sync.runs import sync_source_now
from service.sync.trello import HISTORY_ACTION_TYPES
from tests.support.sources import add_test_source

SEED = 5
KEY, TOKEN, SECRET = "a" * 32, "b" * 64, "c" * 64


def serve_sandbox(boards: int, cards: int, conn: Connection) -> None:
    world = TrelloWorld(
        clock=SandboxClock(), sink=CollectingSink(), api_key=KEY, token=TOKEN, app_secret=SECRET
    )
    populate_trello(
        world,
        random.Random(SEED),
        clients=["Acme Retail", "Borealis Health", "Cobalt Logistics", "Driftwood Media"],
        boards=boards,
        cards_per_board=cards,
        days_of_history=120,
    )
    jira = JiraWorld(
        clock=world.clock, sink=CollectingSink(), credentials=JiraCredentials("x", "x", "x", "x", "x")
    )
    sandbox = Sandbox(
        clock=world.clock, jira=jira, trello=world, dispatcher=WebhookDispatcher(seed=SEED),
        trello_api_key=KEY, trello_token=TOKEN, trello_app_secret=SECRET,
    )  # fmt: skip
    history = set(HISTORY_ACTION_TYPES)
    facts = {
        "cards_by_board": [len(b.card_ids) for b in world.boards.values()],
        "history_by_board": [
            sum(1 for a in world.board_actions.get(b.id, []) if a.type in history)
            for b in world.boards.values()
        ],
        "card_ids": [c.id for c in world.cards.values() if not c.closed][:: max(1, len(world.cards) // 20)],
    }
    with LoopbackServer(create_sandbox_app(sandbox)) as server:
        sandbox.bind(server.base_url)
        conn.send({"base_url": server.base_url, **facts})
        while True:
            message = conn.recv()
            if message == "stop":
                return
            with world.lock:
                for card_id in facts["card_ids"]:
                    card = world.cards[card_id]
                    board = world.boards[card.id_board]
                    target = next(list_id for list_id in board.list_ids if list_id != card.id_list)
                    world.move_card(card_id, target)
            conn.send("moved")


def lower_bound(cards_by_board: list[int], history_by_board: list[int]) -> int:
    boards = len(cards_by_board)
    return (
        1
        + math.ceil(boards / 10)
        + sum(max(1, math.ceil(c / 1000)) for c in cards_by_board)
        + sum(max(1, math.ceil(h / 1000)) for h in history_by_board)
    )


def run(boards: int, cards: int) -> dict[str, Any]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve_sandbox, args=(boards, cards, child), daemon=True)
    process.start()
    info = parent.recv()
    store = open_store(
        Settings(data_dir=Path(tempfile.mkdtemp()), secret_key=SecretStr(Fernet.generate_key().decode()))
    )
    source_id = add_test_source(
        store, kind=SourceKind.TRELLO, name="bench", webhook_secret=SECRET, base_url=info["base_url"],
        credentials={"api_key": KEY, "token": TOKEN},
    )  # fmt: skip
    started = time.perf_counter()
    full = sync_source_now(store, source_id=source_id, full=True)
    full_s = time.perf_counter() - started
    idle = sync_source_now(store, source_id=source_id, full=False)
    parent.send("move")
    parent.recv()
    moved = sync_source_now(store, source_id=source_id, full=False)
    parent.send("stop")
    process.join(timeout=10)
    store.close()
    return {
        "cards": sum(info["cards_by_board"]),
        "history": sum(info["history_by_board"]),
        "full_s": full_s,
        "full_calls": full.api_calls["total"],
        "full_by_endpoint": {k: sum(v.values()) for k, v in full.api_calls["by_endpoint"].items()},
        "lower_bound": lower_bound(info["cards_by_board"], info["history_by_board"]),
        "idle_calls": idle.api_calls["total"],
        "idle_by_endpoint": {k: sum(v.values()) for k, v in idle.api_calls["by_endpoint"].items()},
        "moved_cards": len(info["card_ids"]),
        "moved_calls": moved.api_calls["total"],
        "moved_changed": moved.items_changed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--cards", type=int, default=500)
    args = parser.parse_args()
    r = run(args.boards, args.cards)
    print(
        f"\n== full sync of {args.boards} boards, {r['cards']:,} cards ({r['history']:,} history actions) =="
    )
    print(f"wall time          {r['full_s']:.1f} s  ({r['cards'] / r['full_s']:,.0f} cards/s)")
    print(f"API calls          {r['full_calls']} vs lower bound {r['lower_bound']}")
    for endpoint, count in sorted(r["full_by_endpoint"].items()):
        print(f"  {endpoint:45s} {count}")
    print(f"incremental, nothing changed: {r['idle_calls']} call(s) for {args.boards} boards")
    for endpoint, count in sorted(r["idle_by_endpoint"].items()):
        print(f"  {endpoint:45s} {count}")
    print(
        f"incremental, {r['moved_cards']} cards moved: "
        f"{r['moved_calls']} calls, {r['moved_changed']} items changed"
    )


if __name__ == "__main__":
    main()
