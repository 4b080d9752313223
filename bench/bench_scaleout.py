"""Scale-out on one machine: two API processes and two workers on PostgreSQL and Redis.

Starts the scaled-out shape from the installed `pmbridge` command (`serve --no-worker` twice,
`worker` twice, one PostgreSQL schema, one Redis queue), the sandbox's Jira in this process with
its webhooks sent round-robin to both APIs, and measures two phases:

1. a first full sync of a site of N issues, enqueued as a job: wall time and the CPU every process
   used, per issue;
2. a steady stream of changes at R a second for S seconds, each one signed `jira:issue_updated`
   delivery (plus the comment deliveries push-back causes): intake, processing, rule evaluation
   and comments, until every delivery is processed. CPU per delivery, by process, and the lag from
   acknowledgement to processed.

CPU is read from /proc: each pmbridge process, PostgreSQL (its live processes plus the children it
has reaped), Redis, and this process (the sandbox and its webhook dispatcher).

    .venv/bin/python bench/bench_scaleout.py [--issues 20000] [--rate 50] [--seconds 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from measure import drop_postgres_schema, free_port, fresh_postgres_schema
from pydantic import SecretStr
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.dispatcher import DeliveryOptions, WebhookDispatcher
from sandbox.scenarios import SCENARIOS, build_sandbox
from sandbox.server import LoopbackServer
from service.domain.enums import SourceKind
from service.jobs.runner import JobRunner
from service.settings import Settings
from service.store.orm import InboxRow, SyncRunRow
from service.store.runtime import Store, open_store
from tests.scaleout.cluster import RoundRobinTransport
from tests.support.jira_sandbox import change_one_issue
from tests.support.processes import Process, spawn_pmbridge, stop_processes, wait_until
from tests.support.sources import add_test_source

REDIS_URL = os.environ.get("PMBRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
SCHEMA = "pmb_bench_scaleout"
SEED = 17
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _own_cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _comm(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def postgres_cpu() -> float:
    """CPU of every PostgreSQL process: the live ones, plus what the server's reaped children used
    (a backend's CPU would be lost when its connection closes otherwise)."""
    total = 0.0
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        if _comm(pid) != "postgres":
            continue
        try:
            fields = _stat(pid)
        except OSError:
            continue
        total += _own_cpu(fields)
        if _comm(fields[1]) != "postgres":  # the server itself: add its reaped children
            total += (int(fields[13]) + int(fields[14])) / CLK_TCK
    return total


def redis_cpu() -> float:
    return sum(
        _own_cpu(_stat(pid)) for pid in os.listdir("/proc") if pid.isdigit() and _comm(pid) == "redis-server"
    )


class CpuMeter:
    """CPU seconds by group (APIs, workers, PostgreSQL, Redis, this process) between two readings."""

    def __init__(self, apis: list[Process], workers: list[Process]) -> None:
        self._readers: dict[str, Callable[[], float]] = {
            "api processes": lambda: sum(_own_cpu(_stat(p.pid)) for p in apis),
            "worker processes": lambda: sum(_own_cpu(_stat(p.pid)) for p in workers),
            "postgresql": postgres_cpu,
            "redis": redis_cpu,
            "sandbox and load (this process)": time.process_time,
        }

    def read(self) -> dict[str, float]:
        return {name: reader() for name, reader in self._readers.items()}

    @staticmethod
    def since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: round(after[name] - before[name], 2) for name in before}


def count(store: Store, query: object) -> int:
    with store.sessions() as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def start_cluster(workdir: Path) -> tuple[Settings, dict[str, str], list[Process], list[Process]]:
    """A fresh schema and queue, the schema upgraded, two APIs and two workers started."""
    key = Fernet.generate_key().decode()
    database_url = fresh_postgres_schema(SCHEMA)
    queue = f"pmbridge-bench-{uuid.uuid4().hex[:10]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PMBRIDGE_")},
        "PMBRIDGE_DATABASE_URL": database_url,
        "PMBRIDGE_SECRET_KEY": key,
        "PMBRIDGE_REDIS_URL": REDIS_URL,
        "PMBRIDGE_QUEUE_NAME": queue,
        "PMBRIDGE_DATA_DIR": str(workdir / "data"),
        "PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS": "true",
        "PMBRIDGE_LOG_LEVEL": "WARNING",
        "PMBRIDGE_WORKER_THREADS": "2",
    }
    settings = Settings(
        database_url=database_url,
        secret_key=SecretStr(key),
        redis_url=REDIS_URL,
        queue_name=queue,
        data_dir=workdir / "data",
        allow_private_source_urls=True,
    )
    spawn_pmbridge("upgrade", ["db", "upgrade"], port=0, env=env, workdir=workdir).popen.wait(timeout=120)
    apis, workers = [], []
    for n in range(2):
        port, metrics = free_port(), free_port()
        apis.append(
            spawn_pmbridge(
                f"api-{n}", ["serve", "--no-worker", "--port", str(port)], port=port, env=env, workdir=workdir
            )
        )
        workers.append(
            spawn_pmbridge(
                f"worker-{n}",
                ["worker"],
                port=metrics,
                env={**env, "PMBRIDGE_WORKER_METRICS_PORT": str(metrics)},
                workdir=workdir,
            )
        )
    for process in apis:
        wait_until(lambda p=process: p.answers("/readyz"), timeout_s=60, what=f"{process.name} ready")
    for process in workers:
        wait_until(lambda p=process: p.answers("/metrics"), timeout_s=60, what=f"{process.name} up")
    return settings, env, apis, workers


def connect_source(store: Store, sandbox: Sandbox, base_url: str) -> int:
    """The sandbox's Jira as a source, its webhooks sent to the APIs (the transport picks the port)."""
    source_id = add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="agency",
        webhook_secret=sandbox.jira_webhook_secret,
        base_url=base_url,
        credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
    )
    httpx.post(
        f"{base_url}/_sandbox/jira/webhooks",
        json={"url": f"http://127.0.0.1/webhooks/jira/{source_id}", "secret": sandbox.jira_webhook_secret},
        timeout=10,
    ).raise_for_status()
    return source_id


def first_sync(store: Store, runner: JobRunner, meter: CpuMeter, source_id: int) -> dict[str, object]:
    """The first full sync, enqueued as a job, until its run succeeded."""
    synced = (
        select(func.count())
        .select_from(SyncRunRow)
        .where(SyncRunRow.source_id == source_id, SyncRunRow.status == "succeeded")
    )
    before, started = meter.read(), time.monotonic()
    runner.sync_source(source_id)
    wait_until(lambda: count(store, synced) > 0, timeout_s=1800, what="the first sync", every_s=0.2)
    wall = time.monotonic() - started
    cpu = meter.since(before, meter.read())
    items = count(store, select(func.max(SyncRunRow.items_seen)).where(SyncRunRow.source_id == source_id))
    return {
        "issues": items,
        "wall_s": round(wall, 1),
        "issues_per_s": round(items / wall),
        "cpu_s": cpu,
        "cpu_ms_per_issue": {k: round(v / max(items, 1) * 1000, 3) for k, v in cpu.items()},
    }


def change_stream(
    store: Store,
    sandbox: Sandbox,
    dispatcher: WebhookDispatcher,
    meter: CpuMeter,
    *,
    rate: float,
    seconds: float,
) -> dict[str, object]:
    """Changes at `rate` a second for `seconds`, until every delivery they caused is processed."""
    rng = random.Random(SEED)
    first_id = count(store, select(func.max(InboxRow.id)))
    before, started = meter.read(), time.monotonic()
    changes = int(rate * seconds)
    for n in range(changes):
        change_one_issue(sandbox, rng)
        pause = started + (n + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    dispatcher.flush(timeout_s=60)
    pending = select(func.count()).select_from(InboxRow).where(InboxRow.status == "pending")
    wait_until(
        lambda: count(store, pending) == 0, timeout_s=600, what="every delivery processed", every_s=0.2
    )
    wall = time.monotonic() - started
    cpu = meter.since(before, meter.read())
    with store.sessions() as session:
        rows = session.execute(
            select(InboxRow.received_at, InboxRow.processed_at).where(InboxRow.id > first_id)
        ).all()
    lags = sorted((p - r).total_seconds() for r, p in rows if p is not None)
    deliveries = len(rows)
    return {
        "changes": changes,
        "deliveries": deliveries,
        "wall_s": round(wall, 1),
        "deliveries_per_s": round(deliveries / wall, 1),
        "lag_s": {
            "p50": round(statistics.median(lags), 3) if lags else None,
            "p99": round(lags[max(int(len(lags) * 0.99) - 1, 0)], 3) if lags else None,
            "max": round(lags[-1], 3) if lags else None,
        },
        "cpu_s": cpu,
        "cpu_ms_per_delivery": {k: round(v / max(deliveries, 1) * 1000, 2) for k, v in cpu.items()},
    }


def run(issues: int, rate: float, seconds: float, workdir: Path) -> dict[str, object]:
    settings, _env, apis, workers = start_cluster(workdir)
    runner = JobRunner(settings)
    store = open_store(settings)
    dispatcher = WebhookDispatcher(
        transport=RoundRobinTransport([api.port for api in apis]), options=DeliveryOptions(), seed=SEED
    )
    per_project = max(1, issues // SCENARIOS["large"].jira_projects)
    sandbox = build_sandbox(
        "large", SEED, dispatcher=dispatcher, with_trello=False, issues_per_project=per_project
    )
    meter = CpuMeter(apis, workers)
    try:
        with LoopbackServer(create_sandbox_app(sandbox)) as server, dispatcher:
            sandbox.bind(server.base_url)
            source_id = connect_source(store, sandbox, server.base_url)
            sync = first_sync(store, runner, meter, source_id)
            # The evaluation and comments the sync triggers finish before the stream starts.
            time.sleep(5)
            stream = change_stream(store, sandbox, dispatcher, meter, rate=rate, seconds=seconds)
    finally:
        stop_processes([*apis, *workers], timeout_s=15)
        runner.huey.storage.flush_all()
        runner.close()
        store.close()
        drop_postgres_schema(SCHEMA)
    return {"sync": sync, "stream": stream}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--issues", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=50.0, help="changes a second in the stream")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the stream lasts")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pmb-bench-scaleout-") as tmp:
        result = run(args.issues, args.rate, args.seconds, Path(tmp))
    if args.json:
        print(json.dumps(result))
        return
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
