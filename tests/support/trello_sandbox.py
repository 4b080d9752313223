"""A Trello sandbox served over loopback, seen the way pmbridge should see it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select

from connectors.trello import TrelloRateLimiter
from sandbox.app import Sandbox, create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer
from sandbox.trello.models import Card
from sandbox.trello.serialize import action_json
from sandbox.trello.state import TrelloWorld
from service.domain.enums import SourceKind
from service.domain.work import status_category_from_list_name
from service.store.orm import WorkItemRow
from service.store.runtime import Store
from tests.support.fakes import FakeClock
from tests.support.sources import add_test_source

# Remote or local state of one card: key, list name, status category, due day, archived.
CardState = tuple[str, str, str, str | None, bool]
# updateCard keys the mapping turns into changes, and the label actions (one change each).
CHANGED_CARD_KEYS = frozenset({"idList", "due", "start", "closed", "dueComplete", "name"})
LABEL_ACTIONS = frozenset({"addLabelToCard", "removeLabelFromCard"})


def trello_limiter_on(clock: FakeClock) -> TrelloRateLimiter:
    """A Trello limiter that paces on `clock`; shared with the sandbox's, both see the same time."""
    return TrelloRateLimiter(clock=clock.monotonic, sleep=clock.sleep)


@dataclass
class TrelloSandbox:
    sandbox: Sandbox
    base_url: str
    sink: CollectingSink

    @property
    def world(self) -> TrelloWorld:
        world = self.sandbox.trello
        assert world is not None
        return world

    def control(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        response = httpx.request(method, f"{self.base_url}/_sandbox{path}", json=body, timeout=10)
        response.raise_for_status()
        return response

    def snapshot(self) -> dict[str, CardState]:
        """Every card on a board the integration member belongs to, as pmbridge should map it."""
        world = self.world
        with world.lock:
            return {
                card.id: self._state(world, card)
                for card in world.cards.values()
                if world.me.id in world.boards[card.id_board].member_ids
            }

    @staticmethod
    def _state(world: TrelloWorld, card: Card) -> CardState:
        board = world.boards[card.id_board]
        list_name = world.lists[card.id_list].name
        return (
            f"{board.short_link}-{card.id_short}",
            list_name,
            status_category_from_list_name(list_name).value,
            card.due.date().isoformat() if card.due else None,
            card.closed,
        )

    def expected_change_count(self) -> int:
        """Changes the board feeds record for cards that still exist (deleted ones were never stored)."""
        world = self.world
        with world.lock:
            total = 0
            for feed in world.board_actions.values():
                for action in feed:
                    if action.id_card not in world.cards:
                        continue
                    old = action.data.get("old")
                    if action.type == "updateCard" and isinstance(old, dict):
                        total += len(CHANGED_CARD_KEYS & old.keys())
                    elif action.type in LABEL_ACTIONS:
                        total += 1
            return total

    def card_ids(self, *, where: Callable[[Card], bool] = lambda _card: True) -> list[str]:
        world = self.world
        with world.lock:
            return [card.id for card in world.cards.values() if where(card)]

    def first_open_list(self, board_id: str, *, name: str) -> str:
        world = self.world
        with world.lock:
            board = world.boards[board_id]
            return next(i for i in board.list_ids if world.lists[i].name == name)

    def add_source(
        self, store: Store, *, name: str = "sandbox-trello", settings_secret: str | None = None
    ) -> int:
        return add_test_source(
            store,
            kind=SourceKind.TRELLO,
            name=name,
            webhook_secret=settings_secret or self.sandbox.trello_app_secret,
            base_url=self.base_url,
            credentials={"api_key": self.sandbox.trello_api_key, "token": self.sandbox.trello_token},
        )


def local_snapshot(store: Store, source_id: int) -> dict[str, CardState]:
    with store.sessions() as session:
        rows = session.scalars(
            select(WorkItemRow).where(WorkItemRow.source_id == source_id, WorkItemRow.visibility == "visible")
        )
        return {
            row.external_id: (
                row.key,
                row.status,
                row.status_category,
                row.due_date.isoformat() if row.due_date else None,
                bool(row.raw["pmbridge"]["archived"]),
            )
            for row in rows
        }


def visibility_of(store: Store, source_id: int, card_id: str) -> str | None:
    with store.sessions() as session:
        found: str | None = session.scalars(
            select(WorkItemRow.visibility).where(
                WorkItemRow.source_id == source_id, WorkItemRow.external_id == card_id
            )
        ).one_or_none()
        return found


@contextmanager
def serve_trello_sandbox(
    scenario: str = "tiny",
    *,
    seed: int = 7,
    now: datetime | None = None,
    build: Callable[[Sandbox], None] | None = None,
) -> Iterator[TrelloSandbox]:
    """`build` may reshape the world before it is served (e.g. add boards, tighten rate limits)."""
    sink = CollectingSink()
    # One Jira issue per project: these tests look at Trello only.
    sandbox = build_sandbox(scenario, seed=seed, sink=sink, now=now, issues_per_project=1)  # type: ignore[arg-type]
    if build is not None:
        build(sandbox)
    with LoopbackServer(create_sandbox_app(sandbox)) as server:
        sandbox.bind(server.base_url)
        yield TrelloSandbox(sandbox=sandbox, base_url=server.base_url, sink=sink)


_EDIT_ROUTE = re.compile(r"/1/cards/(?P<card>[^/]+)/actions/(?P<action>[^/]+)/comments")


class SandboxWithCommentEdits(httpx.BaseTransport):
    """Loopback to the sandbox, which lacks Trello's comment edit route
    (`PUT /1/cards/{id}/actions/{idAction}/comments`); that one is served from the sandbox's world."""

    def __init__(self, world: TrelloWorld, *, kill_after_create: bool = False) -> None:
        self.inner = httpx.HTTPTransport()
        self.world = world
        self.kill_after_create = kill_after_create

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        found = _EDIT_ROUTE.fullmatch(request.url.path)
        if request.method == "PUT" and found is not None:
            return self._edit(found["card"], found["action"], str(json.loads(request.content)["text"]))
        response = self.inner.handle_request(request)
        if (
            self.kill_after_create
            and request.method == "POST"
            and request.url.path.endswith("/actions/comments")
        ):
            response.read()
            raise WorkerKilled
        return response

    def _edit(self, card_id: str, action_id: str, text: str) -> httpx.Response:
        with self.world.lock:
            action = next((a for a in self.world.card_actions.get(card_id, []) if a.id == action_id), None)
            if action is None:
                return httpx.Response(404, text="invalid id")
            action.data["text"] = text
            return httpx.Response(200, json=action_json(self.world, action))


class WorkerKilled(BaseException):
    """Stands for SIGKILL: no handler in the drain catches it."""
