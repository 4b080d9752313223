"""Feed page latency and throughput: 100,000 items, 20 clients, 200,000 feed events.

Seeds a database, serves the API with uvicorn on loopback and drives authenticated feed pages
(50 events each, random clients and cursors) with wrk at 50 connections, sharing the machine's
cores with the server. Prints requests per second and latency percentiles.

    .venv/bin/python bench/bench_feed.py                      # SQLite (the embedded default)
    .venv/bin/python bench/bench_feed.py --database postgresql
    .venv/bin/python bench/bench_feed.py --bare fastapi        # or --bare starlette: the bare stack

`--bare` serves the bare endpoint of `bare_feed.py` over the same seeded SQLite database and the
same requests instead of pmbridge, so the two are compared on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from fastapi import FastAPI
from measure import cpu_seconds, fresh_postgres_schema
from sqlalchemy import insert, text

from service.api.app import create_app, freeze_startup_objects
from service.domain.enums import ItemKind, ScopeRule, SourceKind, StatusCategory
from service.domain.work import Project, WorkItem
from service.feed.cursor import FeedCursorCodec
from service.settings import DATABASE_FILE, Settings
from service.store.crypto import CredentialCipher
from service.store.db import build_engine, build_session_factory, transaction
from service.store.items import upsert_work_items
from service.store.migrate import upgrade_schema
from service.store.orm import FeedEventRow
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.store.sources import add_source
from service.store.tenancy import add_client, add_scope, issue_token

CLIENTS = 20
ITEMS = 100_000
EVENTS = 200_000
PAGE = 50
T0 = datetime(2026, 1, 5, tzinfo=UTC)
KINDS = ("item_done", "milestone_progress", "commitment_moved", "commitment_met", "risk_raised")


def seed(store: Store) -> list[tuple[str, int, int]]:
    """Returns (token, client id, highest event id) per client."""
    started = time.perf_counter()
    with transaction(store.sessions) as session:
        source = add_source(
            session,
            cipher=store.cipher,
            kind=SourceKind.JIRA_CLOUD,
            name="bench",
            base_url="https://bench.atlassian.net",
            credentials={"email": "a@b.c", "api_token": "x"},
            webhook_secret=None,
            now=T0,
        )
        assert source.id is not None
        source_id = source.id
        project_ids = upsert_projects(
            session,
            projects=[
                Project(source_id=source_id, external_id=f"p{n}", key=f"P{n}", name=f"Project {n}")
                for n in range(CLIENTS)
            ],
        )
    per_project = ITEMS // CLIENTS
    for n in range(CLIENTS):
        items = [
            WorkItem(
                source_id=source_id,
                project_external_id=f"p{n}",
                external_id=f"p{n}-{i}",
                key=f"P{n}-{i}",
                title=f"Item {i} of project {n}",
                kind=ItemKind.STORY,
                status="Done" if i % 3 == 0 else "To Do",
                status_category=StatusCategory.DONE if i % 3 == 0 else StatusCategory.TODO,
                labels=("client",) if i % 2 == 0 else (),
                created_at=T0,
                updated_at=T0 + timedelta(minutes=i),
            )
            for i in range(per_project)
        ]
        with transaction(store.sessions) as session:
            for start in range(0, len(items), 1000):
                upsert_work_items(session, source_id=source_id, items=items[start : start + 1000])
    clients: list[tuple[str, int]] = []
    with transaction(store.sessions) as session:
        for n in range(CLIENTS):
            client = add_client(session, name=f"client-{n}", now=T0)
            assert client.id is not None
            add_scope(
                session, client_id=client.id, project_id=project_ids[f"p{n}"], rule=ScopeRule.ALL, value=None
            )
            issued = issue_token(
                session, client_id=client.id, is_admin=False, name="bench", expires_at=None, now=T0
            )
            clients.append((issued.secret, client.id))
    rows = [
        {
            "client_id": clients[e % CLIENTS][1],
            "project_id": project_ids[f"p{e % CLIENTS}"],
            "kind": KINDS[e % len(KINDS)],
            "dedupe_key": f"e{e}",
            "summary": f"Event {e}: item P{e % CLIENTS}-{e % per_project} moved along",
            "payload": {"item": f"P{e % CLIENTS}-{e % per_project}", "n": e},
            "occurred_at": T0 + timedelta(seconds=e),
            "created_at": T0 + timedelta(seconds=e),
        }
        for e in range(EVENTS)
    ]
    with transaction(store.sessions) as session:
        for start in range(0, len(rows), 10_000):
            session.execute(insert(FeedEventRow), rows[start : start + 10_000])
    # Statistics as autovacuum (PostgreSQL) or `ANALYZE` would leave them after a load this size:
    # without them the planner sorts a client's whole history instead of walking the cursor index.
    with store.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    with store.engine.connect() as connection:
        maxima: dict[int, int] = dict(
            connection.execute(text("SELECT client_id, MAX(id) FROM feed_events GROUP BY client_id")).all()
        )
    print(f"seeded {ITEMS} items, {CLIENTS} clients, {EVENTS} events in {time.perf_counter() - started:.1f}s")
    return [(token, client_id, maxima[client_id]) for token, client_id in clients]


def write_wrk_script(
    path: Path, clients: list[tuple[str, int, int]], codec: FeedCursorCodec, bare_keys: Path
) -> None:
    """Requests over every client, from the start and from random cursors into its history.

    `bare_keys` gets the tokens' client ids and the cursors' event ids for the bare endpoint."""
    rng = random.Random(7)
    lines = ["local requests = {}", "init = function(args)"]
    tokens: dict[str, int] = {}
    cursors: dict[str, int] = {}
    for token, client_id, highest in clients:
        tokens[token] = client_id
        for _ in range(10):
            after = rng.randrange(1, highest)
            cursor = codec.encode(client_id=client_id, event_id=after)
            cursors[cursor] = after
            lines.append(
                f'  table.insert(requests, wrk.format("GET", "/v1/feed?limit={PAGE}&after={cursor}", '
                f'{{["Authorization"] = "Bearer {token}"}}))'
            )
        lines.append(
            f'  table.insert(requests, wrk.format("GET", "/v1/feed?limit={PAGE}", '
            f'{{["Authorization"] = "Bearer {token}"}}))'
        )
    lines += ["end", "request = function()", "  return requests[math.random(#requests)]", "end"]
    path.write_text("\n".join(lines) + "\n")
    bare_keys.write_text(json.dumps({"tokens": tokens, "cursors": cursors}))


class _NoJobs:
    def process_delivery(self, inbox_id: int) -> None:
        """The benchmark queues no jobs."""

    def process_deliveries(self, inbox_ids: list[int]) -> None:
        """The benchmark queues no jobs."""

    def sync_source(self, source_id: int) -> None:
        """The benchmark queues no jobs."""

    def run_rules(self, run_id: int) -> None:
        """The benchmark queues no jobs."""

    def evaluate_all(self) -> None:
        """The benchmark queues no jobs."""


def build_app() -> FastAPI:
    """The API as `pmbridge serve` builds it, configured from the environment, without a job runner."""
    app = create_app(Settings(), enqueuer=_NoJobs())
    freeze_startup_objects()
    return app


def serve(env: dict[str, str], port: int, workers: int, bare: str | None) -> subprocess.Popen[bytes]:
    """pmbridge's API, or with `bare` the bare endpoint of `bare_feed.py` in its place."""
    target = "'bench.bench_feed:build_app', factory=True" if bare is None else f"'bench.bare_feed:{bare}_app'"
    code = (
        "import uvicorn\n"
        f"uvicorn.run({target}, host='127.0.0.1', port={port}, "
        f"workers={workers}, log_level='warning', access_log=False)\n"
    )
    # The server imports this module as bench.bench_feed, which imports its siblings by name.
    env = {**env, "PYTHONPATH": str(Path(__file__).resolve().parent)}
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
            if status == 200 or (bare is not None and status == 404):
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the API did not start")


def run_wrk(port: int, script: Path, seconds: int) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    result = subprocess.run(
        [wrk, "-t2", "-c50", f"-d{seconds}s", "--latency", "-s", str(script), f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    return result.stdout


def summarize(output: str) -> str:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, flags=re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = errors.group(1) if errors else 0
    return (
        f"requests/s {rps.group(1) if rps else '?'}; latency p50 {percentiles.get('50')}, "
        f"p90 {percentiles.get('90')}, p99 {percentiles.get('99')}; non-2xx {failed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--bare",
        choices=["fastapi", "starlette"],
        help="serve the bare endpoint of bare_feed.py instead, to compare on this machine (SQLite)",
    )
    args = parser.parse_args()
    if args.bare and args.database != "sqlite":
        parser.error("--bare reads the embedded SQLite database")
    workdir = Path(tempfile.mkdtemp(prefix="pmb-bench-feed-"))
    key = Fernet.generate_key()
    env = {
        **os.environ,
        "PMBRIDGE_DATA_DIR": str(workdir),
        "PMBRIDGE_SECRET_KEY": key.decode(),
        "PMBRIDGE_RATE_LIMIT_PER_SECOND": "1000000",
        "PMBRIDGE_RATE_LIMIT_BURST": "1000000",
        "PMBRIDGE_LOG_LEVEL": "WARNING",
    }
    if args.database == "postgresql":
        env["PMBRIDGE_DATABASE_URL"] = fresh_postgres_schema("pmb_bench_feed")
    settings = Settings(
        data_dir=workdir,
        secret_key=key.decode(),
        database_url=env.get("PMBRIDGE_DATABASE_URL"),
    )
    engine = build_engine(settings.resolved_database_url)
    upgrade_schema(engine)
    store = Store(engine=engine, sessions=build_session_factory(engine), cipher=CredentialCipher([key]))
    clients = seed(store)
    store.close()
    script = workdir / "feed.lua"
    bare_keys = workdir / "bare-keys.json"
    write_wrk_script(script, clients, FeedCursorCodec(key), bare_keys)
    env["BARE_FEED_KEYS"] = str(bare_keys)
    env["BARE_DB"] = str(settings.data_dir / DATABASE_FILE)
    server = serve(env, args.port, args.workers, args.bare)
    try:
        run_wrk(args.port, script, 5)  # warm-up: caches, connections
        cpu_before = cpu_seconds(server.pid) if args.workers == 1 else None
        output = run_wrk(args.port, script, args.seconds)
        cpu = cpu_seconds(server.pid) - cpu_before if cpu_before is not None else None
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(output)
    summary = summarize(output)
    requests = re.search(r"(\d+) requests in", output)
    if cpu is not None and requests:
        summary += f"; server CPU {cpu / int(requests.group(1)) * 1e6:.0f} µs a request"
    print(f"{args.bare or 'pmbridge'}, {args.database}, {args.workers} worker(s): {summary}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
