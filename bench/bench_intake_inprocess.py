"""Webhook intake in one process: CPU per signed Jira delivery, against another checkout.

`bench_webhooks.py` drives a served process with wrk; on this machine its throughput swings by a
third between runs of one version, which hides a change of a few percent. This benchmark takes the
network and the load generator out: it builds the app, opens its lifespan, and posts signed
deliveries one after another through httpx's ASGI transport, pinned to one core (the app built
and frozen as `pmbridge serve` builds it), then reports the
process's CPU time per delivery (request building on the client side included, equally for both).

With `--against DIR` it alternates runs of this checkout and of the checkout in DIR (another
version of pmbridge, run with this script and this environment, through PYTHONPATH), and prints
each side's best and median and the median of the pairs' ratios (this / other).

    .venv/bin/python bench/bench_intake_inprocess.py
    .venv/bin/python bench/bench_intake_inprocess.py --against /path/to/older/checkout --pairs 12
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from service.api.app import create_app, freeze_startup_objects
from service.domain.enums import SourceKind
from service.settings import Settings
from service.store.db import transaction
from service.store.runtime import open_store
from service.store.sources import add_source

SECRET = "bench-webhook-secret"  # noqa: S105 - a throwaway secret for a throwaway database
WARM_UP = 300
REPO = Path(__file__).resolve().parents[1]


class DiscardingEnqueuer:
    """The job runner's seam with nothing behind it: only intake is measured."""

    def process_delivery(self, inbox_id: int) -> None:
        pass

    def process_deliveries(self, inbox_ids: list[int]) -> None:
        pass

    def sync_source(self, source_id: int) -> None:
        pass

    def run_rules(self, run_id: int) -> None:
        pass

    def evaluate_all(self) -> None:
        pass


def jira_body(n: int) -> bytes:
    """An issue-updated delivery of about 1.5 KB."""
    return json.dumps(
        {
            "timestamp": 1764150000000 + n,
            "webhookEvent": "jira:issue_updated",
            "issue": {
                "id": str(10_000 + n),
                "key": f"ACM-{n}",
                "fields": {"summary": f"Checkout step {n} " + "x" * 300, "description": "lorem ipsum " * 60},
            },
            "changelog": {"id": str(90_000 + n), "items": [{"field": "status", "fromString": "To Do"}]},
        }
    ).encode()


async def measure(deliveries: int) -> dict[str, float]:
    """Post `deliveries` signed deliveries (after a warm-up) to this process's app; CPU µs each."""
    workdir = Path(tempfile.mkdtemp(prefix="pmb-bench-intake-"))
    try:
        settings = Settings(data_dir=workdir, secret_key=SecretStr(Fernet.generate_key().decode()))
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
        store.close()
        requests = []
        for n in range(WARM_UP + deliveries):
            body = jira_body(n)
            signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {
                "content-type": "application/json",
                "x-hub-signature": signature,
                "x-atlassian-webhook-identifier": f"delivery-{n}",
            }
            requests.append((body, headers))
        app = create_app(settings, enqueuer=DiscardingEnqueuer())
        freeze_startup_objects()  # as `pmbridge serve` does once its app is built
        url = f"/webhooks/jira/{source.id}"
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for body, headers in requests[:WARM_UP]:
                    response = await client.post(url, content=body, headers=headers)
                    assert response.status_code == 202, response.text
                cpu_before, wall_before = time.process_time(), time.perf_counter()
                for body, headers in requests[WARM_UP:]:
                    response = await client.post(url, content=body, headers=headers)
                    assert response.status_code == 202, response.text
                cpu = time.process_time() - cpu_before
                wall = time.perf_counter() - wall_before
        return {"cpu_us": cpu / deliveries * 1e6, "wall_us": wall / deliveries * 1e6}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_one(checkout: Path, deliveries: int) -> dict[str, float]:
    """One measurement in a fresh process that imports pmbridge from `checkout`, pinned to one core."""
    command = [sys.executable, __file__, "--deliveries", str(deliveries), "--json"]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "1", *command]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=600).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def compare(other: Path, pairs: int, deliveries: int) -> None:
    this_runs: list[float] = []
    other_runs: list[float] = []
    for pair in range(pairs):
        other_runs.append(run_one(other, deliveries)["cpu_us"])
        this_runs.append(run_one(REPO, deliveries)["cpu_us"])
        print(f"pair {pair + 1:2d}: other {other_runs[-1]:6.1f} µs, this {this_runs[-1]:6.1f} µs", flush=True)
    ratios = [t / o for t, o in zip(this_runs, other_runs, strict=True)]
    print(f"other ({other}): best {min(other_runs):.1f} µs, median {statistics.median(other_runs):.1f} µs")
    print(f"this  ({REPO}): best {min(this_runs):.1f} µs, median {statistics.median(this_runs):.1f} µs")
    print(
        f"this / other: best {min(this_runs) / min(other_runs):.3f}, "
        f"median of pair ratios {statistics.median(ratios):.3f} "
        f"(range {min(ratios):.3f}-{max(ratios):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=4000)
    parser.add_argument("--against", type=Path, help="another checkout to alternate with")
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--json", action="store_true", help="print one JSON object (used by --against)")
    args = parser.parse_args()
    if args.against is not None:
        compare(args.against.resolve(), args.pairs, args.deliveries)
        return
    result = asyncio.run(measure(args.deliveries))
    if args.json:
        print(json.dumps(result))
    else:
        cpu, wall = result["cpu_us"], result["wall_us"]
        print(f"{args.deliveries} deliveries: {cpu:.1f} µs CPU, {wall:.1f} µs wall each")


if __name__ == "__main__":
    main()
