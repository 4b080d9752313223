"""Webhook intake: signed Jira deliveries per second, each stored durably before its 202.

Runs `pmbridge serve --no-worker` on loopback (as deployed: the ack also triggers the delivery's
job) and drives it with wrk at 50 connections, sharing the machine's cores with the server. Every
request carries a valid HMAC-SHA256 signature and a new delivery id. After the run the inbox is
counted: every 202 must be a stored row. Prints requests per second and latency percentiles.

    .venv/bin/python bench/bench_webhooks.py                      # SQLite (the embedded default)
    .venv/bin/python bench/bench_webhooks.py --database postgresql
    .venv/bin/python bench/bench_webhooks.py --bare starlette       # the bare stack, same machine
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from bare_intake import count_stored
from cryptography.fernet import Fernet
from measure import cpu_seconds, drop_postgres_schema, free_port, fresh_postgres_schema
from pydantic import SecretStr
from sqlalchemy import func, select

from service.domain.enums import SourceKind
from service.settings import Settings
from service.store.db import transaction
from service.store.orm import InboxRow
from service.store.runtime import Store, open_store
from service.store.sources import add_source

SCHEMA = "pmb_bench_webhooks"
SECRET = "bench-webhook-secret"  # noqa: S105 - a throwaway secret for a throwaway database
LUA_SCRIPT = Path(__file__).with_name("webhooks.lua")
PMBRIDGE = str(Path(sys.executable).parent / "pmbridge")
BODIES = 16


def jira_body(n: int) -> bytes:
    """An issue-updated delivery of realistic size (~2 KB), as the sandbox renders them."""
    return json.dumps(
        {
            "timestamp": 1764150000000 + n,
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Ada Lovelace"},
            "issue": {
                "id": str(10_000 + n),
                "key": f"ACM-{n}",
                "fields": {
                    "summary": f"Checkout flow step {n}: validate the address form " + "x" * 200,
                    "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
                    "duedate": "2026-12-01",
                    "labels": ["client", "checkout"],
                    "description": "lorem ipsum " * 60,
                },
            },
            "changelog": {"id": str(90_000 + n), "items": [{"field": "status", "fromString": "To Do"}]},
        }
    ).encode()


def lua_string(value: bytes) -> str:
    return '"' + "".join(f"\\{byte}" for byte in value) + '"'


def write_bodies(path: Path, source_id: int) -> None:
    lines = [f'path = "/webhooks/jira/{source_id}"', "bodies = {"]
    for n in range(BODIES):
        body = jira_body(n)
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        lines.append(f'  {{ body = {lua_string(body)}, signature = "{signature}" }},')
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def serve(env: dict[str, str], port: int, bare: str | None) -> subprocess.Popen[bytes]:
    """pmbridge as deployed, or with `bare` the bare endpoint of `bare_intake.py` in its place."""
    if bare is None:
        command = [PMBRIDGE, "serve", "--no-worker", "--port", str(port)]
    else:
        code = (
            f"import uvicorn; uvicorn.run('bench.bare_intake:{bare}_app', host='127.0.0.1', port={port}, "
            "log_level='warning', access_log=False)"
        )
        command = [sys.executable, "-c", code]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            if bare is not None or httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except (OSError, httpx.TransportError):
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def run_wrk(port: int, bodies: Path, seconds: int, connections: int) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    command = [
        wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA_SCRIPT),
        f"http://127.0.0.1:{port}/", "--", str(bodies), f"run{time.monotonic_ns()}",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout


def summarize(output: str) -> dict[str, str]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, flags=re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": total.group(1) if total else "?",
        "rps": rps.group(1) if rps else "?",
        "p50": percentiles.get("50", "?"),
        "p90": percentiles.get("90", "?"),
        "p99": percentiles.get("99", "?"),
        "non_2xx": errors.group(1) if errors else "0",
    }


def count_rows(store: Store, bare_db: str | None) -> int:
    if bare_db is not None:
        return count_stored(bare_db)
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(InboxRow)) or 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--bare",
        choices=["fastapi", "starlette"],
        help="serve the bare endpoint of bare_intake.py instead, to compare on this machine (SQLite)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pmb-bench-webhooks-"))
    key = Fernet.generate_key().decode()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PMBRIDGE_")},
        "PMBRIDGE_DATA_DIR": str(workdir),
        "PMBRIDGE_SECRET_KEY": key,
        "PMBRIDGE_LOG_LEVEL": "WARNING",
    }
    if args.database == "postgresql":
        env["PMBRIDGE_DATABASE_URL"] = fresh_postgres_schema(SCHEMA)
        subprocess.run([PMBRIDGE, "db", "upgrade"], env=env, check=True, capture_output=True)
    settings = Settings(
        data_dir=workdir, secret_key=SecretStr(key), database_url=env.get("PMBRIDGE_DATABASE_URL")
    )
    store = open_store(settings)
    with transaction(store.sessions) as session:
        source = add_source(
            session,
            cipher=store.cipher,
            kind=SourceKind.JIRA_CLOUD,
            name="bench",
            base_url="https://bench.atlassian.net",
            credentials={"email": "a@b.c", "api_token": "x"},
            webhook_secret=SECRET,
            now=datetime.now(UTC),
        )
    assert source.id is not None
    bodies = workdir / "bench_webhooks_bodies.lua"
    write_bodies(bodies, source.id)
    port = free_port()
    bare_db = str(workdir / "bare.db")
    server = serve({**env, "BARE_DB": bare_db}, port, args.bare)
    try:
        run_wrk(port, bodies, 5, args.connections)  # warm-up: caches, connections, the secret cache
        before = count_rows(store, bare_db if args.bare else None)
        cpu_before = cpu_seconds(server.pid)
        output = run_wrk(port, bodies, args.seconds, args.connections)
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = count_rows(store, bare_db if args.bare else None) - before
    store.close()
    result = summarize(output)
    print(output)
    print(
        f"{args.bare or 'pmbridge'}, {args.database}, {args.connections} connections: "
        f"{result['rps']} deliveries/s; "
        f"ack latency p50 {result['p50']}, p90 {result['p90']}, p99 {result['p99']}; "
        f"{result['requests']} requests, {stored} stored, non-2xx {result['non_2xx']}; "
        f"server CPU {cpu / max(int(result['requests']), 1) * 1e6:.0f} µs a request"
    )
    if args.database == "postgresql":
        drop_postgres_schema(SCHEMA)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
