"""Rule sets for tests of rules that are off by default: every built-in rule switched on."""

from __future__ import annotations

from service.rules import BUILTIN_RULES, RuleSet, load_rule_set

# A rule file over the pack that switches every built-in rule on, those off by default included.
EVERY_BUILTIN = "builtin:\n" + "".join(f"  {rule.id}:\n    enabled: true\n" for rule in BUILTIN_RULES)


def every_builtin_rule_set() -> RuleSet:
    return load_rule_set(EVERY_BUILTIN, source_name="every-builtin.yaml")
