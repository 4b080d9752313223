"""The rules in force, as the operator reads them (`GET /admin/rules`, `pmbridge rules list`), and
their reload (`POST /admin/rules/reload`).

The active rules are every built-in rule as shipped (`default_rule_set()`), then each rule of each
rule file in the rules directory (`PMBRIDGE_RULES_DIR`): `default.yaml` (scope `default`),
`client-<name>.yaml` (a client's projects) and `project-<KEY>.yaml` (one project), the layers
`service.flags.rulesets.rule_set_for` composes. A file's row for a built-in rule is that rule with
the file's settings over the defaults (`kind: override`); a custom rule is listed as the file
states it. A file that does not load is listed with its file, line and reason, not left out.

A built-in rule's row carries its precision, recall and `beats_baseline` in the latest succeeded
backtest of the rules as shipped (`store.rule_runs.latest_backtest_result`), or null when none has
decided them; a file's rows carry null, since that backtest did not run them as the file sets them.

Rule files are read at every evaluation (`service.flags.run`), so a reload is: check every file,
and when all load, queue an evaluation of every project so its flags reflect the files now.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import InvalidInputError, InvalidRuleFilesError
from service.flags.rulesets import load_rule_file
from service.queue import Enqueuer
from service.rules import BUILTIN_RULES, CustomRule, RuleSet
from service.rules.builtin import BuiltinRule
from service.rules.params import apply_params
from service.rules.ruleset import BuiltinOverride
from service.store.db import Session
from service.store.projects import list_projects
from service.store.rule_runs import latest_backtest_result

BUILTIN_ORIGIN = "builtin"
DEFAULT_SCOPE = "default"
# The files `rule_set_for` reads, and what each applies to.
_FILE = re.compile(r"^(?:(?P<default>default)|client-(?P<client>.+)|project-(?P<project>.+))\.yaml$")


@dataclass(frozen=True, slots=True)
class RuleFile:
    """One rule file of the rules directory: what it applies to, and its rules or why it does not load."""

    path: str
    scope_kind: str  # default, client or project
    scope: str  # "default", the client's name or the project's key (as the file names them)
    rule_set: RuleSet | None
    line: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.rule_set is not None


@dataclass(frozen=True, slots=True)
class RuleFileError:
    file: str
    line: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class DescribedRule:
    name: str
    kind: str  # builtin, override (a file's settings of a built-in rule) or custom
    origin: str  # "builtin" or the file's path
    scope_kind: str
    scope: str
    enabled: bool
    severity: str
    push_to_jira: bool
    parameters: dict[str, Any]
    precision: float | None
    recall: float | None
    beats_baseline: bool | None


@dataclass(frozen=True, slots=True)
class RulesReport:
    rules_dir: str | None
    rules: list[DescribedRule]
    errors: list[RuleFileError]


@dataclass(frozen=True, slots=True)
class QueuedProject:
    id: int
    key: str


@dataclass(frozen=True, slots=True)
class RulesReload:
    files: list[str]
    projects: list[QueuedProject]


def list_rule_files(rules_dir: Path | None) -> list[RuleFile]:
    """Every rule file an evaluation may read, by name, each loaded or with why it does not load."""
    if rules_dir is None or not rules_dir.is_dir():
        return []
    files = []
    for path in sorted(rules_dir.iterdir(), key=lambda p: p.name):
        match = _FILE.match(path.name)
        if match is None or not path.is_file():
            continue
        if match["default"]:
            scope_kind, scope = "default", DEFAULT_SCOPE
        elif match["client"]:
            scope_kind, scope = "client", match["client"]
        else:
            scope_kind, scope = "project", match["project"]
        files.append(_load(path, scope_kind=scope_kind, scope=scope))
    return files


def _load(path: Path, *, scope_kind: str, scope: str) -> RuleFile:
    try:
        rule_set = load_rule_file(path)
    except InvalidInputError as exc:  # `load_rule_file` gives the line and reason in its details
        return RuleFile(
            str(path),
            scope_kind,
            scope,
            None,
            line=exc.details.get("line"),
            reason=str(exc.details["reason"]),
        )
    except (OSError, UnicodeDecodeError) as exc:
        return RuleFile(str(path), scope_kind, scope, None, reason=f"cannot be read: {exc}")
    return RuleFile(str(path), scope_kind, scope, rule_set)


def _json_value(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _params(params: object) -> dict[str, Any]:
    return {k: _json_value(v) for k, v in dataclasses.asdict(params).items()}  # type: ignore[call-overload]


def _scores(session: Session) -> dict[str, tuple[float | None, float | None, bool | None]]:
    result = latest_backtest_result(session) or {}
    rows = result.get("rules")
    scores: dict[str, tuple[float | None, float | None, bool | None]] = {}
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not isinstance(row.get("rule"), str):
            continue
        precision, recall, beats = row.get("precision"), row.get("recall"), row.get("beats_baseline")
        scores[row["rule"]] = (
            float(precision) if isinstance(precision, int | float) else None,
            float(recall) if isinstance(recall, int | float) else None,
            beats if isinstance(beats, bool) else None,
        )
    return scores


def _builtin(rule: BuiltinRule[Any], scores: tuple[float | None, float | None, bool | None]) -> DescribedRule:
    return DescribedRule(
        name=rule.id,
        kind="builtin",
        origin=BUILTIN_ORIGIN,
        scope_kind="default",
        scope=DEFAULT_SCOPE,
        enabled=rule.enabled,
        severity=rule.severity.value,
        push_to_jira=rule.push_to_jira,
        parameters=_params(rule.params),
        precision=scores[0],
        recall=scores[1],
        beats_baseline=scores[2],
    )


def _override(file: RuleFile, o: BuiltinOverride, rule: BuiltinRule[Any]) -> DescribedRule:
    return DescribedRule(
        name=o.rule_id,
        kind="override",
        origin=file.path,
        scope_kind=file.scope_kind,
        scope=file.scope,
        enabled=rule.enabled if o.enabled is None else o.enabled,
        severity=(o.severity or rule.severity).value,
        push_to_jira=rule.push_to_jira if o.push_to_jira is None else o.push_to_jira,
        parameters=_params(apply_params(rule.params, o.params)),
        precision=None,
        recall=None,
        beats_baseline=None,
    )


def _custom(file: RuleFile, rule: CustomRule) -> DescribedRule:
    return DescribedRule(
        name=rule.id,
        kind="custom",
        origin=file.path,
        scope_kind=file.scope_kind,
        scope=file.scope,
        enabled=rule.enabled,
        severity=rule.severity.value,
        push_to_jira=rule.push_to_jira,
        parameters={
            "applies_to": rule.applies_to.value,
            "when": rule.when,
            "message": rule.message,
            "client_visible": rule.client_visible,
        },
        precision=None,
        recall=None,
        beats_baseline=None,
    )


def describe_rules(session: Session, *, rules_dir: Path | None) -> RulesReport:
    """Every built-in rule, then every rule of every rule file (files by name), with the files that
    do not load as errors."""
    scores = _scores(session)
    by_id = {rule.id: rule for rule in BUILTIN_RULES}
    rules = [_builtin(rule, scores.get(rule.id, (None, None, None))) for rule in BUILTIN_RULES]
    errors = []
    for file in list_rule_files(rules_dir):
        if file.rule_set is None:
            errors.append(RuleFileError(file=file.path, line=file.line, reason=file.reason or "invalid"))
            continue
        rules += [_override(file, o, by_id[o.rule_id]) for o in file.rule_set.builtin_overrides.values()]
        rules += [_custom(file, rule) for rule in file.rule_set.custom_rules]
    return RulesReport(rules_dir=None if rules_dir is None else str(rules_dir), rules=rules, errors=errors)


def reload_rules(session: Session, *, rules_dir: Path | None, enqueuer: Enqueuer) -> RulesReload:
    """Check every rule file; when all load, queue an evaluation of every project (the evaluation
    reads the files as they are then). A file that does not load is `InvalidRuleFilesError` naming
    each such file with its line and reason, and nothing is queued."""
    files = list_rule_files(rules_dir)
    invalid = [f for f in files if not f.ok]
    if invalid:
        first = invalid[0]
        where = f"{first.path}:{first.line}" if first.line is not None else first.path
        raise InvalidRuleFilesError(
            f"{where}: {first.reason}"
            + (f" (and {len(invalid) - 1} more file(s))" if len(invalid) > 1 else ""),
            details={
                "file": first.path,
                "line": first.line,
                "reason": first.reason,
                "files": [{"file": f.path, "line": f.line, "reason": f.reason} for f in invalid],
            },
        )
    projects = [QueuedProject(id=p.id, key=p.key) for p in list_projects(session) if p.id is not None]
    enqueuer.evaluate_all()
    return RulesReload(files=[f.path for f in files], projects=projects)


def rule_row(rule: DescribedRule) -> dict[str, Any]:
    """A rule as JSON: the row `pmbridge rules list --json` prints and `GET /admin/rules` answers."""
    return dataclasses.asdict(rule)


def rules_report_json(report: RulesReport) -> dict[str, Any]:
    return {
        "rules_dir": report.rules_dir,
        "rules": [rule_row(rule) for rule in report.rules],
        "errors": [dataclasses.asdict(error) for error in report.errors],
    }
