"""Which rule set applies to a project: the defaults, then a client's file, then the project's.

Files live in the rules directory (`PMBRIDGE_RULES_DIR`): `default.yaml`, `client-<name>.yaml`,
`project-<KEY>.yaml`. A later layer overrides an earlier one.
"""

from __future__ import annotations

import re
from pathlib import Path

from service.errors import InvalidInputError
from service.rules import RuleError, RuleSet, default_rule_set, load_rule_set

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _file_name(prefix: str, name: str) -> str:
    return f"{prefix}-{_UNSAFE.sub('_', name)}.yaml"


def load_rule_file(path: Path) -> RuleSet:
    """A rule file, or InvalidInputError with the file, line and reason."""
    try:
        return load_rule_set(path.read_text(), source_name=str(path))
    except RuleError as exc:
        raise InvalidInputError(
            f"{path}:{exc.line}: {exc.reason}",
            details={"file": str(path), "line": exc.line, "reason": exc.reason},
        ) from exc


def rule_set_for(rules_dir: Path | None, *, project_key: str, client_names: list[str]) -> RuleSet:
    """Defaults, overridden by the project's client (when exactly one client sees it), then the project."""
    base = default_rule_set()
    if rules_dir is None:
        return base
    layers: list[RuleSet] = []
    candidates = [rules_dir / "default.yaml"]
    if len(client_names) == 1:
        candidates.append(rules_dir / _file_name("client", client_names[0]))
    candidates.append(rules_dir / _file_name("project", project_key))
    layers += [load_rule_file(path) for path in candidates if path.is_file()]
    return base.override(*layers) if layers else base
