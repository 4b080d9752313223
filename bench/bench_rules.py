"""Rules engine timings on synthetic facts: one changed item, and a batch with the built-in pack
plus five CEL rules. Targets: <= 1 ms for one item, <= 2 s for 100,000 items.

The synthetic tracker is 60% done, 20% in progress, 20% to do; 80% of items carry a due date
between 10 days ago and 45 days ahead, with up to two recorded moves. `--all-open` makes every
item open and due within +-20 days instead, a worst case where most items raise findings.

    .venv/bin/python bench/bench_rules.py [--items 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from service.domain.enums import ItemKind, Priority, StatusCategory
from service.domain.work import Change, Person, WorkItem
from service.rules import ItemFacts, build_item_facts, evaluate, load_rule_set

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)

CUSTOM_RULES = """
rules:
  - id: vip-late
    applies_to: item
    when: "'vip' in item.labels && item.days_overdue > 2"
    severity: critical
    message: "{item.key} is {item.days_overdue} days late for a VIP client"
  - id: slipped-twice
    applies_to: item
    when: "commitment.exists && commitment.slip_count >= 2 && !item.is_done"
    severity: warning
    message: "{item.key} slipped {commitment.slip_count} times"
  - id: big-and-late
    applies_to: item
    when: "item.story_points >= 8.0 && item.days_until_due < 3 && item.status_category != 'done'"
    severity: warning
    message: "{item.key} is large and due soon"
  - id: idle-bug
    applies_to: item
    when: "item.kind == 'bug' && item.priority_rank >= 4 && item.days_since_activity > 7"
    severity: warning
    message: "{item.key} is an idle urgent bug"
  - id: reopened-blocked
    applies_to: item
    when: "item.times_reopened > 0 && item.blocked"
    severity: info
    message: "{item.key} came back and is blocked"
"""

STATUSES = (
    ("To Do", StatusCategory.TODO),
    ("In Progress", StatusCategory.IN_PROGRESS),
    ("Done", StatusCategory.DONE),
)


def synthetic_item(
    rng: random.Random, index: int, *, all_open: bool = False
) -> tuple[WorkItem, list[Change]]:
    created = NOW - timedelta(days=rng.randint(10, 120))
    # An agency's tracker: most items are done; open ones are mostly due ahead, some are late.
    status, category = STATUSES[rng.choices((0, 1, 2), weights=(20, 20, 60))[0]]
    external_id = str(10_000 + index)
    due = (NOW + timedelta(days=rng.randint(-10, 45))).date() if rng.random() < 0.8 else None
    if all_open:
        status, category = STATUSES[rng.choice((0, 1))]
        due = (NOW + timedelta(days=rng.randint(-20, 20))).date()
    changes: list[Change] = []
    when = created
    moved_from: date | None = None
    for step in range(rng.randint(0, 4)):
        when += timedelta(days=rng.randint(1, 5))
        if due is not None and step < 2:
            new_due = due - timedelta(days=3 * (2 - step))
            changes.append(
                Change(
                    source_id=1,
                    item_external_id=external_id,
                    external_id=f"{index}:{step}",
                    field="promised_date",
                    from_value=moved_from.isoformat() if moved_from else None,
                    to_value=new_due.isoformat(),
                    author="pm",
                    changed_at=when,
                )
            )
            moved_from = new_due
        else:
            changes.append(
                Change(
                    source_id=1,
                    item_external_id=external_id,
                    external_id=f"{index}:{step}",
                    field="status",
                    from_display="To Do",
                    to_display=status,
                    changed_at=when,
                )
            )
    item = WorkItem(
        id=index + 1,
        source_id=1,
        project_external_id=f"P{index % 50}",
        external_id=external_id,
        key=f"P{index % 50}-{index}",
        title=f"Item {index}",
        kind=rng.choice(tuple(ItemKind)),
        status=status,
        status_category=category,
        priority=rng.choice(tuple(Priority)),
        assignee=Person(external_id="u1", display_name="Ann") if rng.random() < 0.7 else None,
        labels=("vip",) if rng.random() < 0.1 else (),
        due_date=due,
        created_at=created,
        updated_at=when,
        resolved_at=when if category is StatusCategory.DONE else None,
        story_points=float(rng.choice((1, 2, 3, 5, 8, 13))),
        blocked=rng.random() < 0.05,
    )
    return item, changes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--all-open", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rule_set = load_rule_set(CUSTOM_RULES, source_name="bench")

    started = time.perf_counter()
    facts: list[ItemFacts] = []
    for index in range(args.items):
        item, changes = synthetic_item(rng, index, all_open=args.all_open)
        facts.append(build_item_facts(item, changes))
    built = time.perf_counter() - started
    print(f"built facts for {args.items:,} items in {built:.2f} s ({built / args.items * 1e6:.1f} us/item)")

    one = facts[: min(len(facts), 2000)]
    timings: list[float] = []
    for f in one:
        t0 = time.perf_counter()
        evaluate(rule_set, [f], now=NOW)
        timings.append(time.perf_counter() - t0)
    timings.sort()
    median, p99 = statistics.median(timings), timings[int(len(timings) * 0.99)]
    print(
        f"one changed item (built-in pack + 5 CEL rules): median {median * 1e3:.3f} ms, "
        f"p99 {p99 * 1e3:.3f} ms"
    )

    runs: list[float] = []
    findings = 0
    for _ in range(3):
        t0 = time.perf_counter()
        findings = len(evaluate(rule_set, facts, now=NOW))
        runs.append(time.perf_counter() - t0)
    print(
        f"{args.items:,} items (built-in pack + 5 CEL rules): best {min(runs):.2f} s, "
        f"median {statistics.median(runs):.2f} s, {findings:,} findings"
    )


if __name__ == "__main__":
    main()
