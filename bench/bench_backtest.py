"""Backtest benchmark and signal-quality measurement: a generated world synced, then backtested.

Run: .venv/bin/python bench/bench_backtest.py [--scenario large] [--seed 1 --seed 2 ...]
     [--issues-per-project 500] [--since 180d] [--step 1d] [--rules FILE | --every-builtin]
     [--as-of INSTANT|now] [--json] [--markdown]

For each seed, the sandbox builds the scenario as of a pinned instant (`--as-of`: the same world on
every run) in a child process (its own interpreter) and serves it over loopback; pmbridge syncs
every Jira project and Trello board into a fresh embedded SQLite database, then backtests the rules
as shipped (or `--rules FILE` over them) over the window that ends at the sandbox's present.
Reported: the backtest's JSON (precision, recall, lead, open flags, comments per rule and overall,
and the naive baselines); the replay's wall time and CPU time (this process and its replay workers);
the peak memory of this process and of the largest worker. `--issues-per-project` sizes the Jira
side (the large scenario has 20 projects, so 500 gives 10,000 issues).
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.app import create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.scenarios import SCENARIOS, build_sandbox
from sandbox.server import LoopbackServer
from service.domain.enums import SourceKind
from service.flags.backtest import backtest_stored
from service.flags.rulesets import parse_duration
from service.settings import Settings
from service.store.runtime import Store, open_store
from service.sync.runs import sync_source_now
from tests.support.rules import EVERY_BUILTIN
from tests.support.sources import add_test_source

# The instant the worlds are generated as of, unless --as-of says otherwise: a world depends on the
# calendar it is laid on (weekends, holidays), so a pinned one is the same world on every run.
AS_OF = datetime(2026, 12, 7, 12, tzinfo=UTC)


def serve_sandbox(
    scenario: str, seed: int, issues_per_project: int | None, conn: Connection, as_of: datetime | None = None
) -> None:
    sandbox = build_sandbox(
        scenario,  # type: ignore[arg-type]
        seed,
        now=as_of,
        sink=CollectingSink(),
        issues_per_project=issues_per_project,
    )
    gc.collect()
    gc.freeze()
    with LoopbackServer(create_sandbox_app(sandbox)) as server:
        sandbox.bind(server.base_url)
        assert sandbox.trello is not None
        conn.send(
            {
                "base_url": server.base_url,
                "email": sandbox.jira_email,
                "token": sandbox.jira_api_token,
                "trello_key": sandbox.trello_api_key,
                "trello_token": sandbox.trello_token,
                "now": sandbox.clock.now().isoformat(),
                "issues": len(sandbox.jira.issues),
                "cards": len(sandbox.trello.cards),
            }
        )
        conn.recv()


@dataclass(frozen=True)
class SyncedWorld:
    store: Store
    info: dict[str, Any]  # the sandbox's present ("now"), issue and card counts
    sync_s: float

    @property
    def until(self) -> datetime:
        return datetime.fromisoformat(self.info["now"])


@contextmanager
def synced_world(
    scenario: str, seed: int, issues_per_project: int | None, as_of: datetime | None = AS_OF
) -> Iterator[SyncedWorld]:
    """The scenario's world for `seed` as of `as_of` (None: now, on a clock that runs), served by a
    child process and synced in full into a fresh embedded SQLite store; the sandbox is stopped
    before this yields."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=serve_sandbox, args=(scenario, seed, issues_per_project, child, as_of), daemon=True
    )
    process.start()
    info = parent.recv()
    data_dir = Path(tempfile.mkdtemp(prefix="pmbridge-backtest-"))
    try:
        store = open_store(Settings(data_dir=data_dir, secret_key=SecretStr(Fernet.generate_key().decode())))
        jira = add_test_source(
            store,
            kind=SourceKind.JIRA_CLOUD,
            name="jira",
            webhook_secret=None,
            base_url=info["base_url"],
            credentials={"email": info["email"], "api_token": info["token"]},
        )
        trello = add_test_source(
            store,
            kind=SourceKind.TRELLO,
            name="trello",
            webhook_secret=None,
            base_url=info["base_url"],
            credentials={"api_key": info["trello_key"], "token": info["trello_token"]},
        )
        started = time.perf_counter()
        sync_source_now(store, source_id=jira, full=True)
        sync_source_now(store, source_id=trello, full=True)
        sync_s = time.perf_counter() - started
        parent.send("stop")
        process.join(timeout=10)
        try:
            yield SyncedWorld(store=store, info=info, sync_s=sync_s)
        finally:
            store.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def run(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    with synced_world(args.scenario, seed, args.issues_per_project, as_of_of(args)) as world:
        gc.collect()
        cpu = time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        started = time.perf_counter()
        report = backtest_stored(
            world.store,
            rules=EVERY_BUILTIN
            if args.every_builtin
            else args.rules.read_text(encoding="utf-8")
            if args.rules
            else None,
            since=parse_duration(args.since),
            until=world.until,
            step=parse_duration(args.step) if args.step else timedelta(days=1),
            workers=args.workers,
        )
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - children
        info, sync_s = world.info, world.sync_s
    return {
        "scenario": args.scenario,
        "seed": seed,
        "issues": info["issues"],
        "cards": info["cards"],
        "sync_s": round(sync_s, 2),
        "backtest_s": round(wall, 2),
        "backtest_cpu_s": round(cpu, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "worker_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "report": report.to_json(),
    }


def add_as_of_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        default=AS_OF.isoformat(),
        help=f"The instant the worlds are generated as of (default {AS_OF.isoformat()}, so every run "
        "scores the same worlds; 'now' for the wall clock's).",
    )


def as_of_of(args: argparse.Namespace) -> datetime | None:
    return None if args.as_of == "now" else datetime.fromisoformat(args.as_of)


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float | int) else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="large")
    parser.add_argument("--seed", type=int, action="append", help="Seeds to run (repeatable; default 1).")
    parser.add_argument("--issues-per-project", type=int, default=500)
    parser.add_argument("--since", default="180d")
    parser.add_argument("--step", default="1d")
    parser.add_argument("--rules", type=Path, help="A rule file over the built-in rules.")
    parser.add_argument(
        "--every-builtin",
        action="store_true",
        help="Score every built-in rule, those off by default included (how their defaults are decided).",
    )
    parser.add_argument("--workers", type=int, help="Replay processes (default: one per core).")
    add_as_of_option(parser)
    parser.add_argument("--json", action="store_true", help="Print one JSON object per seed.")
    parser.add_argument(
        "--markdown", action="store_true", help="After the runs, print docs/BENCHMARKS.md's tables."
    )
    args = parser.parse_args()
    results = []
    for seed in args.seed or [1]:
        result = run(args, seed)
        results.append(result)
        if args.json:
            print(json.dumps(result))
            continue
        report = result["report"]
        overall, promise = report["overall"], report["promise_level"]
        print(
            f"\n== {result['scenario']} seed {seed}: {result['issues']:,} issues, {result['cards']:,} cards, "
            f"{report['window']['since'][:10]} to {report['window']['until'][:10]} =="
        )
        print(
            f"backtest           {result['backtest_s']:.1f} s wall, {result['backtest_cpu_s']:.1f} s CPU, "
            f"peak {result['peak_mb']} MB, workers {result['worker_peak_mb']} MB "
            f"(sync took {result['sync_s']:.1f} s)"
        )
        print(
            f"promise-level      precision {_fmt(promise['precision'])}, recall {_fmt(promise['recall'])}, "
            f"median lead {_fmt(promise['median_lead_working_days'])} working days"
        )
        print(
            f"overall            precision {_fmt(overall['precision'])}, recall {_fmt(overall['recall'])}, "
            f"{overall['open_flags_per_100_items']:.2f} open flags per 100 active items, "
            f"{overall['comments_per_100_items_per_week'] / 7:.3f} comments per 100 active items a day"
        )
        missed, in_time = overall["promises_missed"], overall["promises_flagged_in_time"]
        print(f"promises missed    {missed}, flagged in time {in_time}")
        for row in report["rules"]:
            print(
                f"  {row['rule']:28s} flags {row['flags']:6d} earned {row['earned']:6d} "
                f"pending {row['pending']:5d} no-promise {row['without_promise']:5d} "
                f"prec {_fmt(row['precision']):>5s} recall {_fmt(row['recall']):>5s} "
                f"lead {_fmt(row['median_lead_working_days']):>5s} "
                f"open/100 {row['open_flags_per_100_items']:6.2f} "
                f"comments {row['comments']}"
            )
        for row in report["baselines"]:
            print(
                f"  baseline {row['name']:28s} flags {row['flags']:6d} prec {_fmt(row['precision']):>5s} "
                f"recall {_fmt(row['recall']):>5s} open/100 {row['open_flags_per_100_items']:6.2f}"
            )
    if args.markdown:
        print(markdown(results))


def _span(values: list[Any]) -> str:
    """The seeds' values: one when they agree, else lowest to highest."""
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    low, high = min(known), max(known)

    def text(value: Any) -> str:
        return f"{value:,}" if isinstance(value, int) else _fmt(value)

    return text(low) if low == high else f"{text(low)} to {text(high)}"


def markdown(results: list[dict[str, Any]]) -> str:
    """The targets' table per seed, then each rule over the seeds beside its baseline."""
    lines = [
        "| seed | items | backtest wall / CPU | peak MB (main, worker) | promise precision | promise recall "
        "| median lead (working days) | open flags / 100 items | comments / 100 items / day |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        promise, overall = r["report"]["promise_level"], r["report"]["overall"]
        cells = [
            str(r["seed"]),
            f"{r['issues'] + r['cards']:,}",
            f"{r['backtest_s']:.0f} s / {r['backtest_cpu_s']:.0f} s",
            f"{r['peak_mb']}, {r['worker_peak_mb']}",
            _fmt(promise["precision"]),
            _fmt(promise["recall"]),
            _fmt(promise["median_lead_working_days"]),
            f"{overall['open_flags_per_100_items']:.1f}",
            f"{overall['comments_per_100_items_per_week'] / 7:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| rule | flags | precision | baseline (precision) | beats it | recall | lead (working days) "
        "| open / 100 | comments |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in [row["rule"] for row in results[0]["report"]["rules"]]:
        rows = [next(x for x in r["report"]["rules"] if x["rule"] == name) for r in results]
        baseline = rows[0]["baseline"]
        bases = [next((b for b in r["report"]["baselines"] if b["name"] == baseline), None) for r in results]
        beats = {row["beats_baseline"] for row in rows}

        def over(key: str, rows: list[dict[str, Any]] = rows) -> str:
            return _span([row[key] for row in rows])

        cells = [
            f"`{name}`",
            over("flags"),
            over("precision"),
            f"`{baseline}` ({_span([b['precision'] if b else None for b in bases])})" if baseline else "-",
            "yes" if beats == {True} else "no" if beats == {False} else "mixed",
            over("recall"),
            over("median_lead_working_days"),
            over("open_flags_per_100_items"),
            over("comments"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
