"""Rule sets and rule directories for tests of rules that are off by default."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from service.rules import BUILTIN_RULES, RuleSet, load_rule_set

# A rule file over the pack that switches every built-in rule on, those off by default included.
EVERY_BUILTIN = "builtin:\n" + "".join(f"  {rule.id}:\n    enabled: true\n" for rule in BUILTIN_RULES)


def every_builtin_rule_set() -> RuleSet:
    return load_rule_set(EVERY_BUILTIN, source_name="every-builtin.yaml")


# Rules off by default that tests of their facts switch on, as an operator's rule file would.
STALE_ON = "builtin:\n  stale_in_progress:\n    enabled: true\n"


@functools.cache
def rules_dir_with(text: str) -> Path:
    """A rules directory (`PMBRIDGE_RULES_DIR`) whose `default.yaml` is `text`, made once per text."""
    directory = Path(tempfile.mkdtemp(prefix="pmbridge-rules-"))
    (directory / "default.yaml").write_text(text)
    return directory
