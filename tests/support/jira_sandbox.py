"""A Jira sandbox served over loopback, seen the way pmbridge should see it."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.jira.changes import IssueChanges
from sandbox.jira.model import STATUS_BY_ID
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer
from service.domain.work import status_category_from_jira
from service.store.orm import WorkItemRow
from service.store.runtime import Store


@dataclass
class JiraSandbox:
    sandbox: Sandbox
    base_url: str
    sink: CollectingSink

    def control(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        response = httpx.request(method, f"{self.base_url}/_sandbox{path}", json=body, timeout=10)
        response.raise_for_status()
        return response

    def snapshot(self) -> dict[str, tuple[str, str, str | None, str | None]]:
        """Remote state as pmbridge should see it: key, status category, due date, assignee."""
        world = self.sandbox.jira
        with world.lock:
            return {
                str(issue.id): (
                    issue.key,
                    status_category_from_jira(STATUS_BY_ID[issue.status_id].category.key).value,
                    issue.duedate,
                    issue.assignee_id,
                )
                for issue in world.issues.values()
            }

    def history_item_count(self) -> int:
        world = self.sandbox.jira
        with world.lock:
            return sum(len(h.items) for issue in world.issues.values() for h in issue.histories)


def local_snapshot(store: Store, source_id: int) -> dict[str, tuple[str, str, str | None, str | None]]:
    with store.sessions() as session:
        rows = session.scalars(
            select(WorkItemRow).where(WorkItemRow.source_id == source_id, WorkItemRow.visibility == "visible")
        )
        return {
            row.external_id: (
                row.key,
                row.status_category,
                row.due_date.isoformat() if row.due_date else None,
                row.assignee_external_id,
            )
            for row in rows
        }


@contextmanager
def serve_jira_sandbox(
    scenario: str = "tiny", *, seed: int = 7, start: datetime | None = None
) -> Iterator[JiraSandbox]:
    """`start`: the sandbox clock's past start (the world is generated as of it)."""
    sink = CollectingSink()
    sandbox = build_sandbox(scenario, seed=seed, start=start, sink=sink, with_trello=False)  # type: ignore[arg-type]
    with LoopbackServer(create_sandbox_app(sandbox)) as server:
        sandbox.bind(server.base_url)
        yield JiraSandbox(sandbox=sandbox, base_url=server.base_url, sink=sink)


def first_seed_where(predicate: Callable[[Sandbox], bool], scenario: str = "tiny", *, first: int = 7) -> int:
    """The first seed from `first` whose world (built now: worlds follow the wall clock) has what a test
    needs, for tests that need a situation a given seed's world may lack on some days."""
    return next(
        seed
        for seed in itertools.count(first)
        if predicate(build_sandbox(scenario, seed=seed, sink=CollectingSink(), with_trello=False))  # type: ignore[arg-type]
    )


CHANGE_STATUSES = ("To Do", "In Progress", "In Review", "Done")


def change_one_issue(sandbox: Sandbox, rng: random.Random) -> None:
    """A promised date slips or a status moves: one jira:issue_updated delivery."""
    world = sandbox.jira
    with world.lock:
        issue = rng.choice(list(world.issues.values()))
        if issue.duedate and rng.random() < 0.5:
            slipped = datetime.fromisoformat(issue.duedate).date() + timedelta(days=rng.randint(1, 9))
            world.update_issue(issue, IssueChanges(duedate=slipped.isoformat()))
            return
        current = STATUS_BY_ID[issue.status_id].name
        world.update_issue(
            issue, IssueChanges(status=rng.choice([s for s in CHANGE_STATUSES if s != current]))
        )
