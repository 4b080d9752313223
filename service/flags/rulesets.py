"""Which rule set applies to a project: the defaults, then a client's file, then the project's.

Files live in the rules directory (`PMBRIDGE_RULES_DIR`): `default.yaml`, `client-<name>.yaml`,
`project-<KEY>.yaml`. A later layer overrides an earlier one. Rule text sent to the admin API is
checked the same way, and a dry run's window is written as in the CLI (`90d`, `12w`, `48h`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from service.errors import InvalidInputError
from service.rules import RuleError, RuleSet, default_rule_set, load_rule_set

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_DURATION = re.compile(r"^(\d+)([dhw])$")
_UNITS = {"d": "days", "h": "hours", "w": "weeks"}
_DURATION_HINT = "use a number and a unit: 90d, 12w or 48h"


def _file_name(prefix: str, name: str) -> str:
    return f"{prefix}-{_UNSAFE.sub('_', name)}.yaml"


def parse_duration(text: str) -> timedelta:
    """`90d`, `12w` or `48h` as a timedelta; ValueError for anything else."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(_DURATION_HINT)
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise ValueError(f"{text.strip()} is too long a duration") from None


def load_rule_text(text: str, *, source_name: str) -> RuleSet:
    """Rule text, or InvalidInputError naming the source with the line (None when the YAML itself
    gives none) and the reason."""
    try:
        return load_rule_set(text, source_name=source_name)
    except RuleError as exc:
        where = f"{source_name}:{exc.line}" if exc.line is not None else source_name
        raise InvalidInputError(
            f"{where}: {exc.reason}", details={"file": source_name, "line": exc.line, "reason": exc.reason}
        ) from exc


def load_rule_file(path: Path) -> RuleSet:
    """A rule file, or InvalidInputError with the file, line and reason."""
    return load_rule_text(path.read_text(), source_name=str(path))


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
