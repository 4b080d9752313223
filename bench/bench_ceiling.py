"""What any rule on an item's own date could reach: the best recall at a precision, facts in hand.

Run: .venv/bin/python bench/bench_ceiling.py [--scenario large] [--seed 1 --seed 2 ...]
     [--issues-per-project 500] [--since 180d] [--days 3 --days 7 ...] [--precision 0.8]
     [--min-cell 10] [--as-of INSTANT|now] [--json]

Each seed's world is built and synced as bench/bench_backtest.py builds and syncs it. Then, every
day of the window, each open item whose own promised date is exactly D days away is one *case* for
distance D: what the rules could read of it then, and whether that date was then missed (moved
later, delivered late or passed undelivered, as docs/BACKTEST.md defines it; a case not yet decided
by the window's end is left out). What they could read is put in coarse *cells*:

- status: to do or in progress, and for work in progress its days in progress (0-1, 2-4, 5-9, 10+);
- size: story points or original estimate, small (2 points, 4 hours or less), medium, large
  (8 points, 16 hours or more), or none given;
- the due-date forecast's chance of being on time (`service.rules.builtin.chance_on_time`), in
  fifths, or none when the project has too few finished items to say.

More facts in a cell (blocked, assigned, moved before, the project's to-do items promised earlier)
only split the cases thinner: measured on seed 1, the ceilings were lower with them.

For each distance, cells are taken most-missed first for as long as the cases taken stay missed at
`--precision` or more (cells with fewer than `--min-cell` cases are never taken). The share of the
missed cases they hold is the best recall any rule reading these facts could have at that distance
and that precision. It is given twice:

- *chosen on the outcomes*: the cells are picked knowing how every case turned out, an upper bound;
- *held out*: picked on half of the projects and measured on the other half (both ways, summed),
  what a rule tuned on one agency gets at another.

Beside it, the shipped item rules' own point at that distance: `forecast_misses_due_date` (chance
below 0.5) or `due_soon_not_started` (to do, 3 days or less) on the same cases.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_backtest import add_as_of_option, as_of_of, synced_world

from service.domain.enums import FlagSubject, StatusCategory, Visibility
from service.flags.dryrun import load_histories
from service.flags.rulesets import parse_duration
from service.rules.backtest import collect_promises
from service.rules.builtin import chance_on_time
from service.rules.context import Env
from service.rules.dryrun import ItemFactsCache, ProjectHistory, facts_as_of, replay_instants
from service.rules.facts import ItemFacts
from service.rules.params import DueForecastParams, DueSoonParams

FORECAST = DueForecastParams()
DUE_SOON = DueSoonParams()
Cell = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Case:
    project: int  # the history's index: what the held-out split divides
    days: int
    cell: Cell
    missed: bool
    flagged: bool  # by a shipped item rule about the item's own date, at that instant


def _bucket(value: float, edges: Sequence[float]) -> int:
    """The index of the first edge `value` is below; len(edges) past the last."""
    return next((i for i, edge in enumerate(edges) if value < edge), len(edges))


def _size(f: ItemFacts) -> str:
    points, seconds = f.item.story_points, f.item.estimate_seconds
    if points is not None:
        return "small" if points <= 2 else "large" if points >= 8 else "medium"
    if seconds is not None:
        hours = seconds / 3600
        return "small" if hours <= 4 else "large" if hours >= 16 else "medium"
    return "none"


def cases_of(
    histories: Sequence[ProjectHistory], *, since: datetime, until: datetime, days: Iterable[int]
) -> list[Case]:
    """Every case of the window at the given distances (see the module)."""
    distances = set(days)
    promises = collect_promises(histories, until=until)
    found: list[Case] = []
    for index, history in enumerate(histories):
        cache = ItemFactsCache()
        for at in replay_instants(since, until, timedelta(days=1)):
            batch = facts_as_of(history, at, cache=cache)
            env = Env.at(at, batch)
            items = [
                f
                for f in batch
                if isinstance(f, ItemFacts)
                and not f.item.is_done
                and f.item.visibility is Visibility.VISIBLE
                and f.commitment is not None
                and f.commitment.current_date is not None
                and f.commitment.delivered_at is None
            ]
            for f in items:
                promised = f.commitment.current_date  # type: ignore[union-attr]
                assert promised is not None
                left = (promised - env.today).days
                if left not in distances:
                    continue
                promise = promises.get((FlagSubject.ITEM, f.item.source_id, f.item.key))
                missed = promise.missed_after(at, until) if promise is not None else None
                if missed is None:
                    continue
                in_progress = f.item.status_category is StatusCategory.IN_PROGRESS
                odds = chance_on_time(f, promised, env, min_samples=FORECAST.min_samples)
                since_start = f.in_progress_since if in_progress else None
                age = (at - since_start).total_seconds() / 86_400 if since_start is not None else 0.0
                cell: Cell = (
                    "in progress" if in_progress else "to do",
                    _bucket(age, (2, 5, 10)) if in_progress else -1,
                    _size(f),
                    -1 if odds is None else _bucket(odds.chance, (0.2, 0.4, 0.6, 0.8)),
                )
                forecast = odds is not None and odds.chance < FORECAST.min_chance_on_time
                due_soon = not in_progress and 0 <= left <= DUE_SOON.days_before
                found.append(Case(index, left, cell, missed, forecast or due_soon))
    return found


def _choose(cases: Sequence[Case], precision: float, min_cell: int) -> set[Cell]:
    """The cells taken most-missed first while the cases taken stay missed at `precision`."""
    counts: dict[Cell, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        counts[case.cell][0] += 1
        counts[case.cell][1] += case.missed
    ranked = sorted(
        ((missed / total, total, cell) for cell, (total, missed) in counts.items() if total >= min_cell),
        key=lambda entry: (-entry[0], -entry[1]),
    )
    taken: set[Cell] = set()
    best: set[Cell] = set()
    total = missed = 0
    for rate, size, cell in ranked:
        taken.add(cell)
        total += size
        missed += round(rate * size)
        if missed / total >= precision:
            best = set(taken)
    return best


def _score(cases: Sequence[Case], chosen: set[Cell]) -> tuple[float | None, float | None]:
    """(precision, recall) of flagging the cases in `chosen`."""
    flagged = [c for c in cases if c.cell in chosen]
    missed = sum(c.missed for c in cases)
    hit = sum(c.missed for c in flagged)
    return (hit / len(flagged) if flagged else None, hit / missed if missed else None)


def ceiling(cases: Sequence[Case], *, precision: float, min_cell: int) -> dict[str, Any]:
    """One distance's cases: base rate, the shipped rules' point, and the ceilings."""
    missed = sum(c.missed for c in cases)
    shipped = [c for c in cases if c.flagged]
    in_sample = _score(cases, _choose(cases, precision, min_cell))
    # Held out: even projects choose for odd ones, and odd for even; the two halves summed.
    hit = flagged = 0
    for fold in (0, 1):
        train = [c for c in cases if c.project % 2 == fold]
        test = [c for c in cases if c.project % 2 != fold]
        chosen = _choose(train, precision, min_cell)
        taken = [c for c in test if c.cell in chosen]
        flagged += len(taken)
        hit += sum(c.missed for c in taken)
    return {
        "cases": len(cases),
        "missed": missed,
        "base_rate": round(missed / len(cases), 3) if cases else None,
        "shipped_precision": _round(sum(c.missed for c in shipped) / len(shipped) if shipped else None),
        "shipped_recall": _round(sum(c.missed for c in shipped) / missed if missed else None),
        "ceiling_precision": _round(in_sample[0]),
        "ceiling_recall": _round(in_sample[1]),
        "held_out_precision": _round(hit / flagged if flagged else None),
        "held_out_recall": _round(hit / missed if missed else None),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--seed", type=int, action="append", help="Seeds to run (repeatable; default 1).")
    parser.add_argument("--issues-per-project", type=int, default=500)
    parser.add_argument("--since", default="180d")
    parser.add_argument("--days", type=int, action="append", help="Distances in days (default 3, 5, 7, 10).")
    parser.add_argument("--precision", type=float, default=0.8)
    parser.add_argument("--min-cell", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="Print one JSON object per seed.")
    add_as_of_option(parser)
    args = parser.parse_args()
    distances = sorted(set(args.days or [3, 5, 7, 10]))
    for seed in args.seed or [1]:
        with synced_world(args.scenario, seed, args.issues_per_project, as_of_of(args)) as world:
            until = world.until
            histories = load_histories(world.store, now=until)
        cases = cases_of(histories, since=until - parse_duration(args.since), until=until, days=distances)
        rows = {
            str(d): ceiling(
                [c for c in cases if c.days == d], precision=args.precision, min_cell=args.min_cell
            )
            for d in distances
        }
        if args.json:
            print(json.dumps({"scenario": args.scenario, "seed": seed, "distances": rows}))
            continue
        title = f"{args.scenario} seed {seed}: precision {args.precision}, cells of {args.min_cell}+ cases"
        print(f"\n== {title} ==")
        print("days  cases  missed  base   shipped p/r    ceiling p/r    held out p/r")
        for d, row in rows.items():
            print(
                f"{d:>4}  {row['cases']:5d}  {row['missed']:6d}  {row['base_rate']:.2f}   "
                f"{_pair(row, 'shipped')}    {_pair(row, 'ceiling')}    {_pair(row, 'held_out')}"
            )


def _pair(row: dict[str, Any], name: str) -> str:
    p, r = row[f"{name}_precision"], row[f"{name}_recall"]
    return f"{'-' if p is None else f'{p:.2f}'} / {'-' if r is None else f'{r:.2f}'}"


if __name__ == "__main__":
    main()
