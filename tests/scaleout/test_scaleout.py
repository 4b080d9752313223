"""Scale-out on the real engines: two API processes and two workers over PostgreSQL and Redis.

The sandbox sends thousands of signed webhooks, some twice and out of order, through a round-robin
balancer to both API processes while syncs of three sources are triggered over and over. Then a
worker is killed in the middle of a sync and the work finishes on the other one.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.dispatcher import DeliveryOptions, WebhookDispatcher
from sandbox.emit import CollectingSink
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer
from service.domain.enums import SourceKind
from service.flags.push_queue import enable_push
from service.store.db import transaction
from service.store.orm import FlagRow, InboxRow, OutboxRow, ProjectRow, SyncLeaseRow, SyncRunRow
from service.store.runtime import Store
from tests.scaleout.cluster import Cluster, RoundRobinTransport
from tests.support.flags import FLAG_PROPERTY
from tests.support.jira_sandbox import JiraSandbox, change_one_issue, local_snapshot
from tests.support.processes import wait_until
from tests.support.sources import add_test_source

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True, ids=["postgresql"]),
]

# Each change is one delivery (a fifth sent twice), plus the comment events the push-back causes:
# 2,000 changes make about 2,400 deliveries (PMBRIDGE_SCALEOUT_CHANGES sets another number).
CHANGES = int(os.environ.get("PMBRIDGE_SCALEOUT_CHANGES", "2000"))
SOURCES = 3
BURST = 100
BURST_PAUSE_S = 1.0
SETTLE_TIMEOUT_S = 90.0


@dataclass
class World:
    sandbox: Sandbox
    base_url: str

    def add_sources(self, store: Store, count: int) -> list[int]:
        sandbox = self.sandbox
        return [
            add_test_source(
                store,
                kind=SourceKind.JIRA_CLOUD,
                name=f"agency-{n}",
                webhook_secret=sandbox.jira_webhook_secret,
                base_url=self.base_url,
                credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
            )
            for n in range(count)
        ]

    def register_webhook(self, url: str) -> None:
        body = {"url": url, "secret": self.sandbox.jira_webhook_secret}
        httpx.post(f"{self.base_url}/_sandbox/jira/webhooks", json=body, timeout=10).raise_for_status()

    def change_one(self, rng: random.Random) -> None:
        change_one_issue(self.sandbox, rng)

    def snapshot(self) -> dict[str, tuple[str, str, str | None, str | None]]:
        return JiraSandbox(sandbox=self.sandbox, base_url=self.base_url, sink=CollectingSink()).snapshot()

    def flag_comment_counts(self) -> Counter[int]:
        world = self.sandbox.jira
        with world.lock:
            return Counter(
                marker["flag_id"]
                for comment in world.comments.values()
                if isinstance(marker := comment.properties.get(FLAG_PROPERTY), dict)
            )


@pytest.fixture
def storm_world(cluster: Cluster) -> Iterator[World]:
    cluster.start(apis=2, workers=2)
    dispatcher = WebhookDispatcher(
        transport=RoundRobinTransport([api.port for api in cluster.apis]),
        options=DeliveryOptions(duplicate=0.2, reorder_window=8, reorder_hold_s=0.2),
        seed=11,
    )
    sandbox = build_sandbox("tiny", 11, dispatcher=dispatcher, with_trello=False, issues_per_project=40)
    with LoopbackServer(create_sandbox_app(sandbox)) as server, dispatcher:
        sandbox.bind(server.base_url)
        yield World(sandbox=sandbox, base_url=server.base_url)


@pytest.fixture
def quiet_world(cluster: Cluster) -> Iterator[World]:
    cluster.start(apis=1, workers=2)
    sandbox = build_sandbox("tiny", 13, sink=CollectingSink(), with_trello=False, issues_per_project=40)
    with LoopbackServer(create_sandbox_app(sandbox)) as server:
        sandbox.bind(server.base_url)
        yield World(sandbox=sandbox, base_url=server.base_url)


def count(store: Store, query: object) -> int:
    with store.sessions() as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def succeeded_runs(store: Store, source_id: int) -> int:
    return count(
        store,
        select(func.count())
        .select_from(SyncRunRow)
        .where(SyncRunRow.source_id == source_id, SyncRunRow.status == "succeeded"),
    )


def sync_all_and_wait(cluster: Cluster, source_ids: list[int]) -> None:
    before = {s: succeeded_runs(cluster.store, s) for s in source_ids}
    for source_id in source_ids:
        cluster.runner.sync_source(source_id)
    wait_until(
        lambda: all(succeeded_runs(cluster.store, s) > before[s] for s in source_ids),
        timeout_s=SETTLE_TIMEOUT_S,
        what="a sync of every source",
    )


def backlog(cluster: Cluster) -> dict[str, int]:
    """What is left to do: queued jobs, pending deliveries, outbox rows due, syncs running."""
    store = cluster.store
    now = datetime.now(UTC)
    return {
        "queued": cluster.runner.huey.pending_count(),
        "inbox_pending": count(
            store, select(func.count()).select_from(InboxRow).where(InboxRow.status == "pending")
        ),
        "outbox_due": count(
            store,
            select(func.count())
            .select_from(OutboxRow)
            .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now),
        ),
        "syncs_running": count(
            store, select(func.count()).select_from(SyncRunRow).where(SyncRunRow.status == "running")
        ),
    }


def wait_settled(cluster: Cluster, what: str) -> None:
    left: dict[str, int] = {}

    def settled() -> bool:
        left.update(backlog(cluster))
        return not any(left.values())

    try:
        wait_until(settled, timeout_s=SETTLE_TIMEOUT_S, what=what, every_s=0.25)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; left: {left}") from None


def enable_push_everywhere(store: Store) -> None:
    with transaction(store.sessions) as session:
        for project_id in session.scalars(select(ProjectRow.id)).all():
            enable_push(session, project_id=project_id, dry_run=False, now=datetime.now(UTC))


def test_scaleout_webhook_storm_during_syncs_keeps_every_invariant(
    cluster: Cluster, storm_world: World
) -> None:
    store = cluster.store
    source_ids = storm_world.add_sources(store, SOURCES)
    hooked = source_ids[0]
    sync_all_and_wait(cluster, source_ids)
    enable_push_everywhere(store)
    storm_world.register_webhook(f"http://127.0.0.1:{cluster.apis[0].port}/webhooks/jira/{hooked}")
    rng = random.Random(5)

    dispatcher = storm_world.sandbox.dispatcher
    # Bursts of changes, each followed by a sync of every source while its deliveries are in flight.
    for n in range(CHANGES):
        storm_world.change_one(rng)
        if n % BURST == BURST - 1:
            for source_id in source_ids:
                cluster.runner.sync_source(source_id)
            dispatcher.flush(timeout_s=BURST_PAUSE_S)
    assert dispatcher.flush(timeout_s=SETTLE_TIMEOUT_S), "the sandbox could not deliver every webhook"
    wait_settled(cluster, "the inbox to drain")
    # A last sync and evaluation over the final state, then the outbox drains.
    sync_all_and_wait(cluster, source_ids)
    wait_settled(cluster, "the outbox to drain")

    sent = Counter(a.headers["X-Atlassian-Webhook-Identifier"] for a in dispatcher.attempts)
    final_status = {a.headers["X-Atlassian-Webhook-Identifier"]: a.status for a in dispatcher.attempts}
    with store.sessions() as session:
        inbox = session.execute(
            select(InboxRow.delivery_id, InboxRow.status, InboxRow.attempts).where(
                InboxRow.source_id == hooked
            )
        ).all()
        runs = session.execute(
            select(SyncRunRow.source_id, SyncRunRow.started_at, SyncRunRow.finished_at).order_by(
                SyncRunRow.source_id, SyncRunRow.started_at
            )
        ).all()
        pushed_flags = set(session.scalars(select(FlagRow.id).where(FlagRow.pushed_comment_id.is_not(None))))
    comments = storm_world.flag_comment_counts()

    # Thousands sent, some twice: every delivery stored once, acknowledged, and processed once.
    assert len(sent) >= CHANGES and sum(sent.values()) > len(sent)
    assert set(final_status.values()) <= {200, 202}
    assert sorted(row.delivery_id for row in inbox) == sorted(sent)
    assert {(row.status, row.attempts) for row in inbox} <= {("processed", 1), ("ignored", 1)}
    # Both API processes took deliveries.
    for api in cluster.apis:
        assert 'pmbridge_webhook_deliveries_total{outcome="accepted",provider="jira"}' in api.metrics()
    # Syncs were triggered again and again, yet never two at once on one source.
    per_source = Counter(run.source_id for run in runs)
    assert all(per_source[s] >= 3 for s in source_ids)
    for earlier, later in itertools.pairwise(runs):
        if earlier.source_id == later.source_id:
            assert earlier.finished_at is not None and earlier.finished_at <= later.started_at
    # One Jira comment per pushed flag, never two.
    assert pushed_flags, "no flag was pushed: the invariant below would hold vacuously"
    assert set(comments) == pushed_flags
    assert set(comments.values()) == {1}


def test_scaleout_worker_killed_mid_sync_the_work_finishes_on_another(
    cluster: Cluster, quiet_world: World
) -> None:
    store = cluster.store
    (source_id,) = quiet_world.add_sources(store, 1)
    sync_all_and_wait(cluster, [source_id])
    for _ in range(30):
        quiet_world.change_one(random.Random(3))
    slow = {"route": "*", "kind": "latency", "latency_s": 0.4}
    httpx.post(f"{quiet_world.base_url}/_sandbox/faults", json=slow, timeout=10).raise_for_status()

    cluster.runner.sync_source(source_id)
    wait_until(
        lambda: _lease_owner(store, source_id) is not None, timeout_s=30, what="a worker to take the lease"
    )
    owner = _lease_owner(store, source_id)
    assert owner is not None
    victim = next(w for w in cluster.workers if owner.split(":")[1] == str(w.pid))
    survivor = next(w for w in cluster.workers if w is not victim)
    with store.sessions() as session:
        killed_run = session.scalars(
            select(SyncRunRow).where(SyncRunRow.source_id == source_id, SyncRunRow.status == "running")
        ).one()
    os.kill(victim.pid, signal.SIGKILL)
    victim.popen.wait(timeout=10)
    killed_at = datetime.now(UTC)
    httpx.delete(f"{quiet_world.base_url}/_sandbox/faults", timeout=10).raise_for_status()
    # The dead worker's lease would lapse after its TTL; the test moves that moment to now.
    with transaction(store.sessions) as session:
        session.execute(
            update(SyncLeaseRow)
            .where(SyncLeaseRow.source_id == source_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    # The next tick finds the source due and enqueues it; only the survivor is left to run it.
    cluster.runner.run_tick(datetime.now(UTC) + timedelta(minutes=cluster.settings.sync_interval_minutes))
    wait_until(
        lambda: _runs_after(store, source_id, killed_run.id, status="succeeded"),
        timeout_s=SETTLE_TIMEOUT_S,
        what="the sync to finish on the surviving worker",
    )

    (takeover,) = _runs_after(store, source_id, killed_run.id, status="succeeded")
    assert takeover.started_at >= killed_at
    finished = [
        line
        for line in survivor.log_lines()
        if line.startswith("{") and json.loads(line).get("event") == "sync.run.finished"
    ]
    takeover_lines = [json.loads(line) for line in finished if json.loads(line)["run_id"] == takeover.id]
    assert len(takeover_lines) == 1 and takeover_lines[0]["job_id"]
    assert local_snapshot(store, source_id) == quiet_world.snapshot()


def _lease_owner(store: Store, source_id: int) -> str | None:
    with store.sessions() as session:
        lease = session.get(SyncLeaseRow, source_id)
        running = session.scalar(
            select(func.count())
            .select_from(SyncRunRow)
            .where(SyncRunRow.source_id == source_id, SyncRunRow.status == "running")
        )
        return lease.owner if lease is not None and running else None


def _runs_after(store: Store, source_id: int, run_id: int, *, status: str) -> list[SyncRunRow]:
    with store.sessions() as session:
        return list(
            session.scalars(
                select(SyncRunRow).where(
                    SyncRunRow.source_id == source_id, SyncRunRow.id > run_id, SyncRunRow.status == status
                )
            )
        )
