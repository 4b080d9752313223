"""The demo's agency: a sandbox with a generated world that keeps changing and sends webhooks."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.jira.changes import IssueChanges
from sandbox.jira.model import STATUS_BY_ID
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer

JIRA_STATUSES = ("To Do", "In Progress", "In Review", "Done")


@dataclass
class DemoWorld:
    sandbox: Sandbox
    server: LoopbackServer
    rng: random.Random
    changes_made: int = 0

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def client_of_jira_project(self) -> dict[str, str]:
        """Jira project key -> client name, as the generated agency assigns them."""
        return {p.key: p.client for p in self.sandbox.jira.projects.values() if p.client}

    def client_of_trello_board(self) -> dict[str, str]:
        """Trello board id -> client name (boards are named "<client> - <project>")."""
        if self.sandbox.trello is None:
            return {}
        return {b.id: b.name.split(" - ")[0] for b in self.sandbox.trello.boards.values() if " - " in b.name}

    def register_jira_webhook(self, *, url: str, secret: str) -> None:
        response = httpx.post(
            f"{self.base_url}/_sandbox/jira/webhooks", json={"url": url, "secret": secret}, timeout=10
        )
        response.raise_for_status()

    def change_something(self) -> str:
        """One realistic change: a status moves, a promised date slips, a card changes list."""
        self.sandbox.clock.advance(timedelta(minutes=self.rng.randint(5, 90)))
        self.changes_made += 1
        if self.sandbox.trello is not None and self.rng.random() < 0.35:
            return self._change_trello()
        return self._change_jira()

    def _change_jira(self) -> str:
        world = self.sandbox.jira
        with world.lock:
            issue = self.rng.choice(list(world.issues.values()))
            if self.rng.random() < 0.5 and issue.duedate:
                slipped = datetime.fromisoformat(issue.duedate).date() + timedelta(
                    days=self.rng.randint(2, 14)
                )
                world.update_issue(issue, IssueChanges(duedate=slipped.isoformat()))
                return f"{issue.key}: promised date moved to {slipped}"
            current = STATUS_BY_ID[issue.status_id].name
            status = self.rng.choice([s for s in JIRA_STATUSES if s != current])
            world.update_issue(issue, IssueChanges(status=status))
            return f"{issue.key}: {current} -> {status}"

    def _change_trello(self) -> str:
        world = self.sandbox.trello
        assert world is not None
        with world.lock:
            card = self.rng.choice([c for c in world.cards.values() if not c.closed])
            board = world.boards[card.id_board]
            if self.rng.random() < 0.4:
                due = (self.sandbox.clock.now() + timedelta(days=self.rng.randint(3, 30))).replace(
                    microsecond=0
                )
                world.set_date(card.id, "due", due)
                return f"card {card.name!r}: due {due.date()}"
            lists = [list_id for list_id in board.list_ids if not world.lists[list_id].closed]
            target = self.rng.choice([list_id for list_id in lists if list_id != card.id_list] or lists)
            world.move_card(card.id, target)
            return f"card {card.name!r} -> {world.lists[target].name}"


def start_demo_world(*, scenario: str, seed: int) -> DemoWorld:
    """Build the agency, start webhook delivery and serve both APIs on loopback."""
    sandbox = build_sandbox(scenario, seed)  # type: ignore[arg-type]
    server = LoopbackServer(create_sandbox_app(sandbox))
    sandbox.dispatcher.start()
    server.start()
    sandbox.bind(server.base_url)
    # A seeded, repeatable story of changes; nothing secret comes from it.
    return DemoWorld(sandbox=sandbox, server=server, rng=random.Random(seed))  # noqa: S311


def stop_demo_world(world: DemoWorld) -> None:
    world.server.close()
    world.sandbox.dispatcher.close()


def utc_now() -> datetime:
    return datetime.now(UTC)
