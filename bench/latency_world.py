"""The world `bench_latency.py` measures: the sandbox and pmbridge processes, the source, client and
settled rules they start from, and the changes it makes."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from service.domain.enums import ScopeRule, SourceKind
from service.flags.push import drain_pushes
from service.flags.push_queue import enable_push
from service.flags.run import evaluate_projects
from service.store.db import transaction
from service.store.orm import ProjectRow, WorkItemRow
from service.store.runtime import Store
from service.store.sources import add_source
from service.store.tenancy import add_client, add_scope, issue_token
from service.sync.runs import sync_source_now

PMBRIDGE = str(Path(sys.executable).parent / "pmbridge")
KINDS = ("done", "moved", "flagged")
SLIP_DAYS = {"moved": 3, "flagged": 30}


@dataclass
class Change:
    kind: str
    key: str
    new_date: date | None = None
    started: float = 0.0  # wall-clock seconds, just before the control call
    feed_at: float | None = None
    comment_at: float | None = None

    @property
    def wants_comment(self) -> bool:
        return self.kind == "flagged"

    def expects(self, kind: str, payload: dict[str, Any]) -> bool:
        """Whether a feed event of `kind` about this change's issue is the one it should produce."""
        if self.kind == "done":
            return kind == "item_done"
        moved_to = self.new_date.isoformat() if self.new_date is not None else None
        return kind == "commitment_moved" and payload.get("to") == moved_to

    def feed_latency(self) -> float | None:
        return None if self.feed_at is None else self.feed_at - self.started

    def comment_latency(self) -> float | None:
        return None if self.comment_at is None else self.comment_at - self.started


def start_sandbox(scenario: str, seed: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    command = [
        PMBRIDGE,
        "sandbox",
        "serve",
        "--port",
        "0",
        "--scenario",
        scenario,
        "--seed",
        str(seed),
        "--json",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise RuntimeError("the sandbox did not start")
    info: dict[str, Any] = json.loads(line)
    return process, info


def set_up(store: Store, jira: dict[str, Any]) -> tuple[int, str]:
    """Source, full sync, one client over every project with a token, push-back on, rules settled.
    Returns the source id and the client's token."""
    now = datetime.now(UTC)
    with transaction(store.sessions) as session:
        source = add_source(
            session,
            cipher=store.cipher,
            kind=SourceKind.JIRA_CLOUD,
            name="bench",
            base_url=jira["base_url"],
            credentials={"email": jira["email"], "api_token": jira["api_token"]},
            webhook_secret=jira["webhook_secret"],
            now=now,
        )
    assert source.id is not None
    started = time.perf_counter()
    summary = sync_source_now(store, source_id=source.id, full=True)
    print(f"synced {summary.items_seen} issues in {time.perf_counter() - started:.1f}s")
    with transaction(store.sessions) as session:
        client = add_client(session, name="bench", now=now)
        assert client.id is not None
        for project_id in session.scalars(select(ProjectRow.id).where(ProjectRow.source_id == source.id)):
            add_scope(session, client_id=client.id, project_id=project_id, rule=ScopeRule.ALL, value=None)
            enable_push(session, project_id=project_id, dry_run=False, now=now)
        token = issue_token(
            session, client_id=client.id, is_admin=False, name="bench", expires_at=None, now=now
        ).secret
    started = time.perf_counter()
    evaluate_projects(store, now=datetime.now(UTC), rules_dir=None, source_id=source.id)
    posted = 0
    while (pushed := drain_pushes(store)).created + pushed.updated + pushed.recovered:
        posted += pushed.created + pushed.updated + pushed.recovered
    print(f"evaluated and posted {posted} comments in {time.perf_counter() - started:.1f}s")
    return source.id, token


def plan_changes(store: Store, *, source_id: int, count: int, seed: int) -> list[Change]:
    """`count` changes over distinct open issues, the kinds in turn; slips need a due date."""
    with store.sessions() as session:
        rows = session.execute(
            select(WorkItemRow.key, WorkItemRow.due_date)
            .where(
                WorkItemRow.source_id == source_id,
                WorkItemRow.status_category != "done",
                WorkItemRow.visibility == "visible",
            )
            .order_by(WorkItemRow.key)
        ).all()
    rng = random.Random(seed)
    rows = list(rows)
    rng.shuffle(rows)
    dated = [(key, due) for key, due in rows if due is not None]
    undated = [key for key, due in rows if due is None]
    changes: list[Change] = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        if kind == "done" and undated:
            changes.append(Change(kind="done", key=undated.pop()))
            continue
        if not dated:
            raise SystemExit(f"the scenario has too few open issues for {count} changes")
        key, due = dated.pop()
        if kind == "done":
            changes.append(Change(kind="done", key=key))
        else:
            changes.append(Change(kind=kind, key=key, new_date=due + timedelta(days=SLIP_DAYS[kind])))
    return changes


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([PMBRIDGE, "serve", "--port", str(port)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the API did not start")


def register_webhooks(
    control: httpx.Client, *, api_port: int, receiver_port: int, source_id: int, secret: str
) -> None:
    """Issue events to pmbridge, signed with the source's secret; comment events to this script."""
    control.post(
        "/jira/webhooks",
        json={"url": f"http://127.0.0.1:{api_port}/webhooks/jira/{source_id}", "secret": secret},
    ).raise_for_status()
    control.post(
        "/jira/webhooks",
        json={
            "url": f"http://127.0.0.1:{receiver_port}/comments",
            "events": ["comment_created", "comment_updated"],
            "name": "bench-comments",
        },
    ).raise_for_status()
