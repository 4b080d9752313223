from __future__ import annotations

import pytest

from service.domain.enums import FlagSubject, Severity
from service.rules import BuiltinOverride, RuleSet, default_rule_set, load_rule_set

DEFAULTS = """\
builtin:
  stale_in_progress:
    enabled: true
    days: 5
    severity: warning
rules:
  - id: late-vip
    applies_to: item
    when: "'vip' in item.labels && item.days_overdue > 0"
    severity: warning
    message: "{item.key} late"
"""

CLIENT = """\
builtin:
  stale_in_progress:
    severity: critical
rules:
  - id: late-vip
    applies_to: item
    when: "'vip' in item.labels && item.days_overdue > 3"
    severity: critical
    message: "{item.key} very late"
  - id: client-only
    applies_to: project
    when: "project.items_overdue > 10"
    severity: warning
    message: "{project.key} has {project.items_overdue} overdue items"
"""

PROJECT = """\
builtin:
  stale_in_progress:
    days: 2
  blocked_too_long:
    enabled: false
rules:
  - id: client-only
    applies_to: project
    when: "project.items_overdue > 10"
    severity: warning
    message: "off here"
    enabled: false
"""


@pytest.fixture
def layered() -> RuleSet:
    return load_rule_set(DEFAULTS, source_name="defaults").override(
        load_rule_set(CLIENT, source_name="client:acme"), load_rule_set(PROJECT, source_name="project:P")
    )


def test_override_later_layer_wins_per_setting(layered: RuleSet) -> None:
    stale = layered.builtin("stale_in_progress")

    assert stale is not None
    assert (stale.params.days, stale.severity) == (2, Severity.CRITICAL)


def test_override_same_custom_id_replaces_rule(layered: RuleSet) -> None:
    [late] = [r for r in layered.custom_rules if r.id == "late-vip"]

    assert (late.severity, late.when) == (Severity.CRITICAL, "'vip' in item.labels && item.days_overdue > 3")


def test_override_disabled_rules_leave_the_active_set(layered: RuleSet) -> None:
    assert "blocked_too_long" not in layered.active_rule_ids(FlagSubject.ITEM)
    assert layered.builtin("blocked_too_long") is None
    assert "client-only" not in layered.active_rule_ids(FlagSubject.PROJECT)


def test_override_keeps_untouched_defaults(layered: RuleSet) -> None:
    assert {"overdue_commitment", "late-vip", "reopened_after_done"} <= layered.active_rule_ids(
        FlagSubject.ITEM
    )


def test_override_records_layer_sources(layered: RuleSet) -> None:
    assert layered.sources == ("defaults", "client:acme", "project:P")


def test_override_does_not_change_the_base() -> None:
    base = default_rule_set()
    base.override(load_rule_set(PROJECT, source_name="p"))

    assert "blocked_too_long" in base.active_rule_ids(FlagSubject.ITEM)


def test_rule_set_unknown_builtin_override_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown built-in"):
        RuleSet(builtin_overrides={"nosuch": BuiltinOverride(rule_id="nosuch")})
