"""Rule files for the rules directory (`PMBRIDGE_RULES_DIR`) and a backtest of the rules as shipped,
for the tests of the rules in force and their reload."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from service.domain.enums import RuleRunKind
from service.store.db import transaction
from service.store.rule_runs import add_finished_rule_run
from service.store.runtime import Store

CLIENT_FILE = """\
builtin:
  stale_in_progress:
    severity: critical
    days: 9
rules:
  - id: bug_late
    applies_to: item
    when: item.kind == "bug" && item.days_overdue > 2
    severity: critical
    push_to_jira: true
    message: "{item.key} is a bug {item.days_overdue} days late"
"""

# Line 4 holds a condition that does not compile.
BROKEN_FILE = """\
rules:
  - id: bug_late
    applies_to: item
    when: item.kind == "bug" &&
    severity: critical
    message: "x"
"""


def write_rule_files(rules_dir: Path, files: dict[str, str]) -> Path:
    rules_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (rules_dir / name).write_text(text)
    return rules_dir


def add_shipped_backtest(store: Store) -> None:
    """A succeeded backtest of the rules as shipped that scored `overdue_commitment`."""
    with transaction(store.sessions) as session:
        add_finished_rule_run(
            session,
            kind=RuleRunKind.BACKTEST,
            params={"rules": None},
            result={
                "rules": [
                    {"rule": "overdue_commitment", "precision": 0.9, "recall": 0.5, "beats_baseline": True},
                    {"rule": "stale_in_progress", "precision": None, "recall": None, "beats_baseline": None},
                ]
            },
            now=datetime(2026, 9, 1, tzinfo=UTC),
        )
