from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime

import orjson
import pytest

from service.domain.enums import FlagSubject, Priority, Severity
from service.domain.work import Change, Project, WorkItem
from service.rules import (
    RuleSet,
    build_item_facts,
    build_project_facts,
    evaluate,
    evaluate_with_failures,
    load_rule_set,
)
from tests.support.rules import every_builtin_rule_set

MakeItem = Callable[..., WorkItem]
MakeChange = Callable[..., Change]

NOW = datetime(2026, 3, 25, 12, tzinfo=UTC)

CUSTOM = """\
builtin:
{disabled}
rules:
  - id: vip-late
    applies_to: item
    when: "'vip' in item.labels && item.days_overdue > 2"
    severity: critical
    message: "{{item.key}} is {{item.days_overdue}} days late ({{commitment.slip_count}} slips)"
    push_to_jira: true
    client_visible: true
  - id: portfolio-late
    applies_to: project
    when: "project.items_overdue >= 2"
    severity: warning
    message: "{{project.name}}: {{project.items_overdue}} items overdue"
"""

ALL_BUILTINS = (
    "overdue_commitment",
    "due_soon_not_started",
    "promised_date_moved",
    "forecast_misses_promise",
    "stale_in_progress",
    "blocked_too_long",
    "unassigned_high_priority",
    "scope_added_after_promise",
    "sprint_commitment_slipping",
    "reopened_after_done",
)


@pytest.fixture
def custom_only() -> RuleSet:
    disabled = "\n".join(f"  {rule_id}:\n    enabled: false" for rule_id in ALL_BUILTINS)
    return load_rule_set(CUSTOM.format(disabled=disabled), source_name="custom.yaml")


def test_evaluate_custom_item_rule_fires_with_rendered_message_and_evidence(
    custom_only: RuleSet, make_item: MakeItem
) -> None:
    facts = build_item_facts(make_item(labels=("vip",), due_date=date(2026, 3, 20)), [], data_as_of=NOW)

    [finding] = evaluate(custom_only, [facts], now=NOW)

    assert finding.rule_id == "vip-late"
    assert (finding.subject.kind, finding.subject.id, finding.subject.key) == (FlagSubject.ITEM, 1, "P-1")
    assert (finding.severity, finding.push_to_jira, finding.client_visible) == (Severity.CRITICAL, True, True)
    assert finding.message == "P-1 is 5 days late (0 slips)"
    assert finding.evidence["values"] == {"item.days_overdue": 5, "item.labels": ["vip"]}
    assert finding.evidence["data_as_of"] == NOW.isoformat()
    orjson.dumps(finding.evidence)


def test_evaluate_custom_item_rule_false_condition_does_not_fire(
    custom_only: RuleSet, make_item: MakeItem
) -> None:
    facts = build_item_facts(make_item(labels=("internal",), due_date=date(2026, 3, 20)), [])

    assert evaluate(custom_only, [facts], now=NOW) == []


def test_evaluate_custom_project_rule_reads_project_facts(
    custom_only: RuleSet, make_item: MakeItem, project: Project
) -> None:
    items = [
        build_item_facts(make_item(id=n, external_id=str(n), key=f"P-{n}", due_date=date(2026, 3, 1)), [])
        for n in range(3)
    ]
    facts = build_project_facts(project, items, [], as_of=NOW)

    [finding] = evaluate(custom_only, [facts], now=NOW)

    assert (finding.rule_id, finding.subject.kind, finding.subject.key) == (
        "portfolio-late",
        FlagSubject.PROJECT,
        "P",
    )
    assert finding.message == "Portal: 3 items overdue"


def test_evaluate_fingerprint_unchanged_while_only_days_pass(
    custom_only: RuleSet, make_item: MakeItem
) -> None:
    facts = build_item_facts(make_item(labels=("vip",), due_date=date(2026, 3, 20)), [])

    today = evaluate(custom_only, [facts], now=NOW)[0]
    tomorrow = evaluate(custom_only, [facts], now=NOW.replace(day=26))[0]

    assert today.message != tomorrow.message
    assert today.fingerprint == tomorrow.fingerprint


def test_evaluate_fingerprint_changes_with_the_situation(make_item: MakeItem) -> None:
    facts = build_item_facts(make_item(due_date=date(2026, 3, 20)), [])
    moved = build_item_facts(make_item(due_date=date(2026, 3, 22)), [])
    rules = load_rule_set("", source_name="t")

    [before] = [f for f in evaluate(rules, [facts], now=NOW) if f.rule_id == "overdue_commitment"]
    [after] = [f for f in evaluate(rules, [moved], now=NOW) if f.rule_id == "overdue_commitment"]
    [next_day] = [
        f for f in evaluate(rules, [facts], now=NOW.replace(day=26)) if f.rule_id == "overdue_commitment"
    ]

    assert before.fingerprint != after.fingerprint
    assert before.fingerprint == next_day.fingerprint


def test_evaluate_fingerprint_changes_with_severity(make_item: MakeItem) -> None:
    facts = build_item_facts(make_item(due_date=date(2026, 3, 20)), [])
    louder = load_rule_set("builtin:\n  overdue_commitment:\n    severity: critical\n", source_name="t")

    def overdue(rules: RuleSet) -> str:
        return next(
            f.fingerprint for f in evaluate(rules, [facts], now=NOW) if f.rule_id == "overdue_commitment"
        )

    assert overdue(load_rule_set("", source_name="t")) != overdue(louder)


def test_evaluate_custom_rule_failing_on_a_subject_is_reported_not_raised(make_item: MakeItem) -> None:
    rules = load_rule_set(
        "rules:\n  - id: first-label\n    applies_to: item\n    when: \"item.labels[0] == 'vip'\"\n"
        "    severity: info\n    message: m\n",
        source_name="t",
    )
    facts = build_item_facts(make_item(labels=()), [])

    result = evaluate_with_failures(rules, [facts], now=NOW)

    assert [f.rule_id for f in result.findings if f.rule_id == "first-label"] == []
    [failure] = result.failures
    assert (failure.rule_id, failure.subject_key) == ("first-label", "P-1")


def test_evaluate_same_inputs_give_same_results_across_a_batch(
    custom_only: RuleSet, make_item: MakeItem
) -> None:
    batch = [
        build_item_facts(
            make_item(
                id=n,
                external_id=str(n),
                key=f"P-{n}",
                labels=("vip",) if n % 2 else (),
                due_date=date(2026, 3, 20),
            ),
            [],
        )
        for n in range(6)
    ]

    findings = evaluate(custom_only, batch, now=NOW)

    assert [f.subject.key for f in findings] == ["P-1", "P-3", "P-5"]


def test_evaluate_findings_come_in_stable_order(make_item: MakeItem) -> None:
    batch = [
        build_item_facts(
            make_item(
                id=n,
                external_id=str(n),
                key=f"P-{n}",
                assignee=None,
                priority=Priority.HIGH,
                due_date=date(2026, 3, 1),
            ),
            [],
        )
        for n in (3, 1, 2)
    ]
    rules = every_builtin_rule_set()

    findings = evaluate(rules, batch, now=NOW)

    assert findings == evaluate(rules, list(reversed(batch)), now=NOW)
    assert [f.subject.key for f in findings][:2] == ["P-1", "P-1"]


def test_evaluate_naive_time_is_refused(make_item: MakeItem) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(
            load_rule_set("", source_name="t"), [build_item_facts(make_item(), [])], now=datetime(2026, 3, 1)
        )


def test_evaluate_message_template_cannot_reach_python_objects(make_item: MakeItem) -> None:
    # A title full of braces is data, never a template.
    rules = load_rule_set(
        "rules:\n  - id: echo\n    applies_to: item\n    when: 'true'\n"
        "    severity: info\n    message: '{item.title}'\n",
        source_name="t",
    )
    facts = build_item_facts(dataclasses.replace(make_item(), title="{item.__class__} {0}"), [])

    [finding] = [f for f in evaluate(rules, [facts], now=NOW) if f.rule_id == "echo"]

    assert finding.message == "{item.__class__} {0}"
