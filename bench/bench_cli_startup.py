"""How long the `pmbridge` command takes to answer, against `python -c pass` on the same machine.

Each round runs every command once, in turn, so the machine's drift touches all of them alike; the
report is the median of the rounds. `pmbridge version` and `--help` import neither the API, the
store nor the settings; the read commands open an embedded database migrated beforehand.

    python bench/bench_cli_startup.py [--rounds 15] [--json]
    python bench/bench_cli_startup.py --importtime "flags list"   # the slowest imports of one command

Targets (issue: first run and speed): version and --help within 10x of `python -c pass`; commands
that only read the database within 0.8 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
PMBRIDGE = str(Path(PYTHON).parent / "pmbridge")
INTERPRETER = "python -c pass"
COMMANDS: dict[str, list[str]] = {
    INTERPRETER: [PYTHON, "-c", "pass"],
    "pmbridge version": [PMBRIDGE, "version"],
    "pmbridge --help": [PMBRIDGE, "--help"],
    "pmbridge db current": [PMBRIDGE, "db", "current"],
    "pmbridge sources list": [PMBRIDGE, "sources", "list"],
    "pmbridge clients list": [PMBRIDGE, "clients", "list"],
    "pmbridge flags list": [PMBRIDGE, "flags", "list"],
}
RATIO_TARGET = {"pmbridge version": 10.0, "pmbridge --help": 10.0}
READ_TARGET_S = 0.8


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PMBRIDGE_")},
        "PMBRIDGE_DATA_DIR": str(data_dir),
    }


def _run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(rounds: int, env: dict[str, str]) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, argv in COMMANDS.items():
            samples[name].append(_run(argv, env))
    return samples


def report(samples: dict[str, list[float]]) -> dict[str, dict[str, float | bool | None]]:
    baseline = statistics.median(samples[INTERPRETER])
    rows: dict[str, dict[str, float | bool | None]] = {}
    for name, values in samples.items():
        median = statistics.median(values)
        ratio_target = RATIO_TARGET.get(name)
        read = name not in RATIO_TARGET and name != INTERPRETER
        rows[name] = {
            "median_s": round(median, 3),
            "min_s": round(min(values), 3),
            "max_s": round(max(values), 3),
            "x_interpreter": round(median / baseline, 1),
            "target_met": (median / baseline <= ratio_target)
            if ratio_target
            else (median <= READ_TARGET_S if read else None),
        }
    return rows


def importtime(command: str, env: dict[str, str], top: int = 25) -> None:
    """The modules with the largest cumulative import time when `pmbridge COMMAND` runs."""
    script = f"from service.cli import app\napp({command.split()!r})"
    result = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", script], env=env, capture_output=True, text=True, check=False
    )
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            rows.append((int(match.group(2)), len(match.group(3)) // 2, match.group(4)))
    for cumulative, depth, module in sorted(rows, reverse=True)[:top]:
        print(f"{cumulative / 1000:8.1f} ms  {'  ' * depth}{module}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--importtime", metavar="COMMAND", help='e.g. "flags list"')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp) / "data")
        subprocess.run([PMBRIDGE, "db", "upgrade"], env=env, check=True, capture_output=True)
        if args.importtime:
            importtime(args.importtime, env)
            return
        for argv in COMMANDS.values():  # warm the file cache once
            _run(argv, env)
        rows = report(measure(args.rounds, env))
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{'command':24s} {'median':>8s} {'min':>7s} {'max':>7s} {'x python':>9s}  target")
    for name, row in rows.items():
        met = {True: "met", False: "MISSED", None: ""}[row["target_met"]]  # type: ignore[index]
        print(
            f"{name:24s} {row['median_s']:8.3f} {row['min_s']:7.3f} {row['max_s']:7.3f} "
            f"{row['x_interpreter']:9.1f}  {met}"
        )


if __name__ == "__main__":
    main()
