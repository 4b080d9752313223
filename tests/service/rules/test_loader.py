from __future__ import annotations

import pytest

from service.domain.enums import FlagSubject, Severity
from service.rules import RuleError, load_rule_set

VALID = """\
builtin:
  stale_in_progress:
    enabled: true
    days: 7
    severity: info
rules:
  - id: vip-late
    applies_to: item
    when: "'vip' in item.labels && item.days_overdue > 2"
    severity: critical
    message: "{item.key} is {item.days_overdue} days late"
    push_to_jira: true
    client_visible: true
  - id: milestone-thin
    applies_to: milestone
    when: milestone.items_total > 0 && milestone.percent_done < 50.0 && milestone.days_until_due < 7
    severity: warning
    message: "{milestone.name} is {milestone.percent_done:.0f}% done"
"""


def rule(**overrides: str) -> str:
    fields = {
        "id": "r1",
        "applies_to": "item",
        "when": '"item.days_overdue > 1"',
        "severity": "warning",
        "message": '"{item.key} late"',
    }
    fields.update(overrides)
    lines = [f"    {key}: {value}" for key, value in fields.items() if value != "<omit>"]
    return "rules:\n  - " + "\n".join(lines)[4:] + "\n"


def test_load_rule_set_valid_text_gives_rules_and_overrides() -> None:
    rules = load_rule_set(VALID, source_name="acme.yaml")

    assert [r.id for r in rules.custom_rules] == ["vip-late", "milestone-thin"]
    vip = rules.custom_rules[0]
    assert (vip.applies_to, vip.severity, vip.push_to_jira, vip.client_visible, vip.line) == (
        FlagSubject.ITEM,
        Severity.CRITICAL,
        True,
        True,
        7,
    )
    assert rules.builtin_overrides["stale_in_progress"].params == {"days": 7}
    stale = rules.builtin("stale_in_progress")
    assert stale is not None
    assert (stale.params.days, stale.severity) == (7, Severity.INFO)


def test_load_rule_set_empty_text_is_the_builtin_pack() -> None:
    rules = load_rule_set("", source_name="empty.yaml")

    assert rules.custom_rules == ()
    assert "overdue_commitment" in rules.active_rule_ids(FlagSubject.ITEM)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (rule(when='"item.days_overdue >"'), 4, "invalid CEL"),
        (rule(when='"item.nosuch > 1"'), 4, "unknown field item.nosuch"),
        (rule(when='"milestone.items_total > 1"'), 4, "cannot be evaluated"),
        (rule(when='"item.priority > 3"'), 4, "cannot be evaluated"),
        (rule(when='"item.days_overdue"'), 4, "must be a bool"),
        (rule(applies_to="sprint"), 3, "applies_to must be one of item, milestone, project"),
        (rule(severity="urgent"), 5, "severity must be one of info, warning, critical"),
        (rule(when="<omit>"), 2, "rule is missing 'when'"),
        (rule(message="<omit>"), 2, "rule is missing 'message'"),
        (rule(id="Bad Id"), 2, "must match"),
        (rule(id="overdue_commitment"), 2, "is a built-in rule"),
        (rule(message='"{item.nosuch}"'), 6, "{item.nosuch} is not available"),
        (rule(message='"{item.key!r}"'), 6, "conversions"),
        (rule(message='"{item.__class__}"'), 6, "namespace.field"),
        (rule(push_to_jira="maybe"), 7, "push_to_jira must be true or false"),
        (rule(owner="ann"), 7, "unknown key 'owner'"),
        ("rules:\n  - id: a\n    when: [1\n", 4, "invalid YAML"),
        ("rules:\n  - id: a\x00\n", 2, "character 0x0 is not allowed"),
        ("rules: {}\n", 1, "rules must be a list"),
        ("extras: 1\n", 1, "unknown key 'extras'"),
        ("builtin:\n  nosuch:\n    days: 1\n", 2, "unknown built-in rule 'nosuch'"),
        ("builtin:\n  stale_in_progress:\n    days: -1\n", 3, "days must be between"),
        ("builtin:\n  stale_in_progress:\n    days: soon\n", 3, "days must be an integer"),
        ("builtin:\n  stale_in_progress:\n    hours: 4\n", 3, "unknown setting 'hours'"),
        ("builtin:\n  unassigned_high_priority:\n    priorities: [urgent]\n", 3, "unknown value(s) urgent"),
        ("builtin:\n  overdue_commitment:\n    message: '{nosuch}'\n", 3, "{nosuch} is not available"),
    ],
    ids=[
        "bad-cel-syntax",
        "unknown-field",
        "wrong-namespace",
        "type-mismatch",
        "not-bool",
        "unknown-applies-to",
        "wrong-severity",
        "missing-when",
        "missing-message",
        "bad-id",
        "builtin-id",
        "template-unknown-field",
        "template-conversion",
        "template-dunder",
        "flag-not-bool",
        "unknown-rule-key",
        "yaml-syntax",
        "yaml-unprintable",
        "rules-not-list",
        "unknown-top-key",
        "unknown-builtin",
        "threshold-out-of-bounds",
        "threshold-wrong-type",
        "unknown-threshold",
        "unknown-priority",
        "builtin-template-unknown-field",
    ],
)
def test_load_rule_set_invalid_rule_refused_with_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(RuleError) as caught:
        load_rule_set(text, source_name="client.yaml")

    assert caught.value.line == line
    assert reason in caught.value.reason
    assert caught.value.source_name == "client.yaml"
    assert str(caught.value).startswith(f"client.yaml:{line}: ")


def test_load_rule_set_duplicate_id_names_first_line() -> None:
    text = rule() + "  - " + rule()[len("rules:\n  - ") :]

    with pytest.raises(RuleError) as caught:
        load_rule_set(text, source_name="dup.yaml")

    assert (caught.value.line, caught.value.reason) == (7, "id 'r1' already used on line 2")


def test_load_rule_set_string_literal_mentioning_field_is_not_a_field_reference() -> None:
    rules = load_rule_set(rule(when="\"item.title != 'item.nosuch'\""), source_name="t")

    assert rules.custom_rules[0].condition.selection == {"item": frozenset({"title"})}


def test_load_rule_set_whole_namespace_use_selects_all_fields() -> None:
    rules = load_rule_set(rule(when='"size(item) > 3"'), source_name="t")

    assert "key" in rules.custom_rules[0].condition.selection["item"]
