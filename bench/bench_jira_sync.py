"""Jira sync benchmark: full sync of N sandbox issues with complete histories, then incremental runs.

Run: .venv/bin/python bench/bench_jira_sync.py --issues 10000 [--issues 100000] [--repeat 5]

The sandbox runs in a child process (its own interpreter, so the sync does not share a GIL with
it); pmbridge syncs into a fresh embedded SQLite database. Reported per size: API calls by endpoint
against the lower bound the API allows (search pages of 100 issues, bulk changelog requests of
1,000 issues and up to 10,000 histories, worklog feed pages and worklog lists of 1,000 ids, plus
the site and project reads, and the boards and their sprints, 50 a page), wall time, issues per
second, peak memory of the syncing process, CPU time of the syncing and of the sandbox process
during the full sync; then an incremental run with nothing changed and one with 1% of the issues
changed. `--repeat N` runs the full sync N times against the same sandbox, each into a fresh
database, and reports the median run and the range (this machine's speed drifts by up to 1.7x
within an hour; a median of runs taken together moves less).
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.app import create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.scenarios import SCENARIOS, build_sandbox
from sandbox.server import LoopbackServer
from service.domain.enums import SourceKind
from service.settings import Settings
from service.store.runtime import Store, open_store
from service.sync.runs import sync_source_now
from tests.support.sources import add_test_source

SEED = 11
PROJECTS = SCENARIOS["large"].jira_projects


def serve_sandbox(issues: int, conn: Connection) -> None:
    sandbox = build_sandbox(
        "large", SEED, sink=CollectingSink(), with_trello=False, issues_per_project=issues // PROJECTS
    )
    # As `pmbridge sandbox serve` does: the world outlives every request, so no collection scans it.
    gc.collect()
    gc.freeze()
    world = sandbox.jira
    facts = {
        "issues": len(world.issues),
        "histories": sum(len(i.histories) for i in world.issues.values()),
        "worklogs": len(world.worklogs),
        "projects": len(world.projects),
        "boards": len(world.boards),
        "sprints": [sum(1 for s in world.sprints.values() if s.board_id == b) for b in world.boards],
        "keys": [i.key for i in list(world.issues.values())[::100]],
    }
    with LoopbackServer(create_sandbox_app(sandbox)) as server:
        sandbox.bind(server.base_url)
        conn.send(
            {
                "base_url": server.base_url,
                "email": sandbox.jira_email,
                "token": sandbox.jira_api_token,
                **facts,
            }
        )
        # "cpu" asks for the CPU the sandbox process has used so far; anything else stops it.
        while conn.recv() == "cpu":
            conn.send(time.process_time())


def lower_bound(
    issues: int, histories: int, worklogs: int, projects: int, boards: int, sprints: list[int]
) -> int:
    search = math.ceil(issues / 100)
    changelog = max(math.ceil(issues / 1000), math.ceil(histories / 10000))
    # The updated-worklog feed (at least one page) and the worklogs by id, 1,000 a call each.
    worklog = max(1, math.ceil(worklogs / 1000)) + math.ceil(worklogs / 1000)
    setup = 2 + math.ceil(projects / 50) + projects  # serverInfo, field, project pages, versions
    # The site's boards (50 a page, at least one) and each board's sprints (50 a page, at least one).
    agile = max(1, math.ceil(boards / 50)) + sum(max(1, math.ceil(n / 50)) for n in sprints)
    return search + changelog + worklog + setup + agile


def fresh_source(info: dict[str, Any], data_dir: Path) -> tuple[Store, int]:
    store = open_store(Settings(data_dir=data_dir, secret_key=SecretStr(Fernet.generate_key().decode())))
    source_id = add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="bench",
        webhook_secret=None,
        base_url=info["base_url"],
        credentials={"email": info["email"], "api_token": info["token"]},
    )
    return store, source_id


def run(issues: int, repeat: int = 1) -> dict[str, Any]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve_sandbox, args=(issues, child), daemon=True)
    process.start()
    info = parent.recv()
    runs: list[dict[str, Any]] = []
    data_dirs = [Path(tempfile.mkdtemp(prefix="pmbridge-bench-")) for _ in range(repeat)]
    for attempt, data_dir in enumerate(data_dirs):
        store, source_id = fresh_source(info, data_dir)
        parent.send("cpu")
        sandbox_cpu = parent.recv()
        own_cpu = time.process_time()
        started = time.perf_counter()
        full = sync_source_now(store, source_id=source_id, full=True)
        full_s = time.perf_counter() - started
        own_cpu = time.process_time() - own_cpu
        parent.send("cpu")
        sandbox_cpu = parent.recv() - sandbox_cpu
        runs.append({"full_s": full_s, "sync_cpu_s": own_cpu, "sandbox_cpu_s": sandbox_cpu, "summary": full})
        if attempt < repeat - 1:
            store.close()
            shutil.rmtree(data_dir)
    # The incremental runs below continue from the last full sync.
    median = sorted(runs, key=lambda r: r["full_s"])[(len(runs) - 1) // 2]
    full = median["summary"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    idle = sync_source_now(store, source_id=source_id, full=False)
    changed_keys = info["keys"][: max(1, issues // 100)]
    with httpx.Client(base_url=info["base_url"] + "/_sandbox", timeout=30) as control:
        control.post("/clock/advance", json={"seconds": 60})
        for n, key in enumerate(changed_keys):
            control.post(f"/jira/issues/{key}/duedate", json={"duedate": f"2027-{n % 12 + 1:02d}-15"})
    started = time.perf_counter()
    one_percent = sync_source_now(store, source_id=source_id, full=False)
    one_percent_s = time.perf_counter() - started
    parent.send("stop")
    process.join(timeout=10)
    store.close()
    shutil.rmtree(data_dirs[-1])
    bound = lower_bound(
        info["issues"], info["histories"], info["worklogs"], info["projects"], info["boards"], info["sprints"]
    )
    walls = [r["full_s"] for r in runs]
    return {
        "issues": info["issues"],
        "histories": info["histories"],
        "worklogs": info["worklogs"],
        "runs": len(runs),
        "full_s": median["full_s"],
        "issues_per_s": info["issues"] / median["full_s"],
        "full_s_range": (min(walls), max(walls)),
        "peak_mb": peak_mb,
        "sync_cpu_s": median["sync_cpu_s"],
        "sandbox_cpu_s": median["sandbox_cpu_s"],
        "full_calls": full.api_calls["total"],
        "full_by_endpoint": {k: sum(v.values()) for k, v in full.api_calls["by_endpoint"].items()},
        "lower_bound": bound,
        "idle_calls": idle.api_calls["total"],
        "one_percent_changed": len(changed_keys),
        "one_percent_calls": one_percent.api_calls["total"],
        "one_percent_items_changed": one_percent.items_changed,
        "one_percent_s": one_percent_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, action="append", help="Sizes to run (repeatable).")
    parser.add_argument(
        "--repeat", type=int, default=1, help="Full syncs per size, each into a fresh database (default 1)."
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    for size in args.issues or [10000]:
        result = run(size, args.repeat)
        print(
            f"\n== full sync of {result['issues']:,} issues ({result['histories']:,} histories, "
            f"{result['worklogs']:,} worklogs) =="
        )
        if result["runs"] > 1:
            low, high = result["full_s_range"]
            print(
                f"runs               {result['runs']}: {low:.2f} to {high:.2f} s "
                f"({result['issues'] / high:,.0f} to {result['issues'] / low:,.0f} issues/s); the median run:"
            )
        print(f"wall time          {result['full_s']:.2f} s  ({result['issues_per_s']:,.0f} issues/s)")
        print(f"peak memory        {result['peak_mb']:.0f} MB (syncing process)")
        print(
            f"CPU                {result['sync_cpu_s']:.1f} s syncing process, "
            f"{result['sandbox_cpu_s']:.1f} s sandbox serving it"
        )
        ratio = result["full_calls"] / result["lower_bound"]
        print(
            f"API calls          {result['full_calls']} vs lower bound {result['lower_bound']} ({ratio:.2f}x)"
        )
        for endpoint, count in sorted(result["full_by_endpoint"].items()):
            print(f"  {endpoint:45s} {count}")
        print(
            f"incremental, nothing changed: {result['idle_calls']} call(s) "
            "(search, the two worklog feeds, one per board for its open sprints)"
        )
        print(
            f"incremental, {result['one_percent_changed']} changed (1%): "
            f"{result['one_percent_calls']} calls, {result['one_percent_items_changed']} items changed, "
            f"{result['one_percent_s']:.2f} s"
        )


if __name__ == "__main__":
    main()
