"""Evaluating a rule set: facts in, findings out.

The result for a batch is complete for the subjects in it: a subject evaluated without a finding
for a rule that is active for its kind (`RuleSet.active_rule_ids`) has no such risk any more, and
an open flag for it resolves. Time alone changes some verdicts (overdue, stale), so open subjects
are re-evaluated periodically, not only when they change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from service.domain.enums import FlagSubject, Visibility
from service.domain.work import JSON
from service.rules.builtin import Hit
from service.rules.conditions import CEL_ERRORS
from service.rules.context import CelValue, Env
from service.rules.errors import RuleFailure
from service.rules.facts import Facts, ItemFacts
from service.rules.findings import Finding, SubjectRef, fingerprint, subject_kind, subject_ref
from service.rules.grouping import group_findings
from service.rules.messages import render
from service.rules.reading import FieldPath, Values, build_context
from service.rules.ruleset import CustomRule, Plan, ResolvedBuiltin, RuleSet


@dataclass(frozen=True, slots=True)
class Evaluation:
    findings: list[Finding]
    failures: list[RuleFailure]


def _json(value: CelValue | dict[str, CelValue]) -> JSON:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def _freshness(facts: Facts) -> dict[str, JSON]:
    extra: dict[str, JSON] = {}
    if facts.data_as_of is not None:
        extra["data_as_of"] = facts.data_as_of.isoformat()
    if facts.as_of is not None:
        extra["as_of"] = facts.as_of.isoformat()
    return extra


class _Subject:
    """One subject under evaluation; what every finding on it shares is computed once."""

    __slots__ = ("_freshness", "_ref", "env", "facts", "kind", "plan")

    def __init__(self, facts: Facts, kind: FlagSubject, env: Env, plan: Plan) -> None:
        self.facts = facts
        self.kind = kind
        self.env = env
        self.plan = plan
        self._ref: SubjectRef | None = None
        self._freshness: dict[str, JSON] | None = None

    @property
    def ref(self) -> SubjectRef:
        if self._ref is None:
            self._ref = subject_ref(self.facts)
        return self._ref

    @property
    def freshness(self) -> dict[str, JSON]:
        if self._freshness is None:
            self._freshness = _freshness(self.facts)
        return self._freshness

    def template_values(self, rule_id: str) -> dict[str, object]:
        selection = self.plan.messages[rule_id]
        values: dict[str, object] = (
            dict(build_context(self.kind, self.facts, self.env, selection)) if selection else {}
        )
        values["subject"] = self.ref.label
        return values


def _builtin_finding(resolved: ResolvedBuiltin, hit: Hit, subject: _Subject) -> Finding:
    ref = subject.ref
    values = subject.template_values(resolved.id)
    values.update(hit.evidence)
    values["subject"] = ref.label
    material = {key: hit.evidence.get(key) for key in hit.fingerprint_keys}
    severity = resolved.severity if resolved.severity_fixed or hit.severity is None else hit.severity
    return Finding(
        rule_id=resolved.id,
        subject=ref,
        severity=severity,
        message=render(resolved.message, values),
        evidence={**hit.evidence, **subject.freshness},
        push_to_jira=resolved.push_to_jira,
        client_visible=resolved.client_visible,
        fingerprint=fingerprint(rule_id=resolved.id, subject=ref, severity=severity, material=material),
        observed_at=subject.env.now,
    )


def _dotted(path: FieldPath) -> str:
    return f"{path[0]}.{path[1]}" if path[0] else path[1]


def _custom_finding(rule: CustomRule, subject: _Subject, values: Values) -> Finding:
    ref = subject.ref
    read = {_dotted(path): _json(values[path]) for path in rule.condition.inputs}
    material = {_dotted(path): _json(values[path]) for path in subject.plan.fingerprints[rule.id]}
    evidence: dict[str, JSON] = {"when": rule.when, "values": read, **subject.freshness}
    return Finding(
        rule_id=rule.id,
        subject=ref,
        severity=rule.severity,
        message=render(rule.message, subject.template_values(rule.id)),
        evidence=evidence,
        push_to_jira=rule.push_to_jira,
        client_visible=rule.client_visible,
        fingerprint=fingerprint(rule_id=rule.id, subject=ref, severity=rule.severity, material=material),
        observed_at=subject.env.now,
    )


# Per custom rule (in plan order, per kind): the values it reads -> its result, or the reason it
# failed. A condition is a pure function of those values, and they repeat across items (kind,
# priority, day counts), so most subjects of a large batch skip the conversion into CEL values,
# the costly part.
Memo = dict[FlagSubject, list[dict[object, bool | str]]]
_MEMO_LIMIT = 65_536


def evaluate_one(
    rule_set: RuleSet, facts: Facts, env: Env, failures: list[RuleFailure], memo: Memo | None = None
) -> list[Finding]:
    """Findings for one subject; a custom rule that fails on it is reported in `failures`."""
    plan = rule_set.plan
    kind = subject_kind(facts)
    subject = _Subject(facts, kind, env, plan)
    findings: list[Finding] = []
    closed = isinstance(facts, ItemFacts) and (
        facts.item.is_done or facts.item.visibility is not Visibility.VISIBLE
    )
    for resolved in plan.closed_item_builtins[kind] if closed else plan.builtins[kind]:
        hit = resolved.rule.check(facts, resolved.params, env)
        if hit is not None:
            findings.append(_builtin_finding(resolved, hit, subject))
    custom = plan.custom[kind]
    if not custom:
        return findings
    memo = {} if memo is None else memo
    memos = memo.get(kind)
    if memos is None:
        memos = memo[kind] = [{} for _ in custom]
    values = plan.readers[kind].read(facts, env)
    for rule, results in zip(custom, memos, strict=True):
        key = rule.condition.key(values)
        outcome = results.get(key)
        if outcome is None:
            try:
                outcome = rule.condition.evaluate(values)
            except CEL_ERRORS as exc:
                outcome = str(exc) or type(exc).__name__
            if len(results) >= _MEMO_LIMIT:
                results.clear()
            results[key] = outcome
        if outcome is True:
            findings.append(_custom_finding(rule, subject, values))
        elif outcome is not False:
            failures.append(RuleFailure(rule_id=rule.id, subject_key=facts.key, reason=outcome))
    return findings


def evaluate_with_failures(
    rule_set: RuleSet, facts_batch: Iterable[Facts], *, now: datetime, group: bool = True
) -> Evaluation:
    """With `group`, items of one milestone that trip the same rule make one milestone finding
    (`service.rules.grouping`); the batch must then hold the milestones' facts with the items'."""
    batch = list(facts_batch)
    env = Env.at(now, batch)
    findings: list[Finding] = []
    failures: list[RuleFailure] = []
    memo: Memo = {}
    for facts in batch:
        findings.extend(evaluate_one(rule_set, facts, env, failures, memo))
    if group:
        findings = group_findings(findings, batch)
    findings.sort(key=lambda f: (f.subject.kind.value, f.subject.source_id, f.subject.key, f.rule_id))
    return Evaluation(findings=findings, failures=failures)


def evaluate(
    rule_set: RuleSet, facts_batch: Iterable[Facts], *, now: datetime, group: bool = True
) -> list[Finding]:
    """Findings for every subject in the batch, in a stable order (kind, source, key, rule).

    A custom rule that raises on a subject does not flag it; use `evaluate_with_failures` to see
    those failures.
    """
    return evaluate_with_failures(rule_set, facts_batch, now=now, group=group).findings
