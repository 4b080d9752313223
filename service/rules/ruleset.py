"""A rule set: settings for the built-in rules plus custom CEL rules, layered per client and project.

Layers compose with `override`: a later layer's explicit settings win key by key for built-ins,
and a custom rule with the same id replaces the earlier one (`enabled: false` switches an
inherited rule off). The default layer is the built-in pack as shipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from service.domain.enums import FlagSubject, Severity
from service.rules.builtin import BuiltinRule
from service.rules.conditions import Condition
from service.rules.context import GLOBAL_FIELDS
from service.rules.messages import template_fields
from service.rules.pack import BUILTIN_BY_ID, BUILTIN_RULES
from service.rules.params import ParamValue, apply_params
from service.rules.reading import FieldPath, FieldReader, field_reader, is_volatile


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltinOverride:
    """The settings of one built-in rule that a layer states explicitly (None: inherited)."""

    rule_id: str
    enabled: bool | None = None
    severity: Severity | None = None
    push_to_jira: bool | None = None
    client_visible: bool | None = None
    message: str | None = None
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    def then(self, later: BuiltinOverride) -> BuiltinOverride:
        return BuiltinOverride(
            rule_id=self.rule_id,
            enabled=later.enabled if later.enabled is not None else self.enabled,
            severity=later.severity or self.severity,
            push_to_jira=later.push_to_jira if later.push_to_jira is not None else self.push_to_jira,
            client_visible=later.client_visible if later.client_visible is not None else self.client_visible,
            message=later.message if later.message is not None else self.message,
            params={**self.params, **later.params},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomRule:
    id: str
    applies_to: FlagSubject
    when: str
    severity: Severity
    message: str
    push_to_jira: bool = False
    client_visible: bool = False
    enabled: bool = True
    source_name: str = ""
    line: int | None = None
    condition: Condition = field(compare=False, repr=False)

    @property
    def fingerprint_fields(self) -> tuple[FieldPath, ...]:
        """The fields the condition reads that do not change with the clock alone."""
        return tuple(path for path in self.condition.inputs if not is_volatile(self.applies_to, *path))


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedBuiltin:
    """A built-in rule with the settings in force after all layers."""

    rule: BuiltinRule[Any]
    params: Any
    # The severity a finding gets when its evidence does not grade it, or always when a rule file
    # sets it (`severity_fixed`).
    severity: Severity
    push_to_jira: bool
    client_visible: bool
    message: str
    severity_fixed: bool = False

    @property
    def id(self) -> str:
        return self.rule.id


@dataclass(frozen=True, slots=True)
class Plan:
    """What runs for each kind of subject, resolved once per rule set."""

    builtins: Mapping[FlagSubject, tuple[ResolvedBuiltin, ...]]
    # The built-ins that can fire on a done or gone item.
    closed_item_builtins: Mapping[FlagSubject, tuple[ResolvedBuiltin, ...]]
    custom: Mapping[FlagSubject, tuple[CustomRule, ...]]
    # Context fields the custom conditions of a kind read, together.
    selection: Mapping[FlagSubject, Mapping[str, frozenset[str]]]
    # Context fields each rule's message template reads, by rule id.
    messages: Mapping[str, Mapping[str, frozenset[str]]]
    readers: Mapping[FlagSubject, FieldReader]
    # Per custom rule id: the fields its fingerprint covers.
    fingerprints: Mapping[str, tuple[FieldPath, ...]]


def message_selection(template: str) -> dict[str, frozenset[str]]:
    """The context fields a (checked) template names; evidence keys and `subject` are not context."""
    selection: dict[str, frozenset[str]] = {}
    for name in template_fields(template):
        head, _, tail = name.partition(".")
        if tail:
            selection[head] = selection.get(head, frozenset()) | {tail}
        elif head in GLOBAL_FIELDS:
            selection[""] = selection.get("", frozenset()) | {head}
    return selection


def _resolve(overrides: Mapping[str, BuiltinOverride]) -> tuple[ResolvedBuiltin, ...]:
    resolved: list[ResolvedBuiltin] = []
    for rule in BUILTIN_RULES:
        o = overrides.get(rule.id, BuiltinOverride(rule_id=rule.id))
        if not (rule.enabled if o.enabled is None else o.enabled):
            continue
        resolved.append(
            ResolvedBuiltin(
                rule=rule,
                params=apply_params(rule.params, o.params),
                severity=o.severity or rule.severity,
                severity_fixed=o.severity is not None,
                push_to_jira=rule.push_to_jira if o.push_to_jira is None else o.push_to_jira,
                client_visible=rule.client_visible if o.client_visible is None else o.client_visible,
                message=rule.message if o.message is None else o.message,
            )
        )
    return tuple(resolved)


def _plan(overrides: Mapping[str, BuiltinOverride], custom: tuple[CustomRule, ...]) -> Plan:
    builtins = _resolve(overrides)
    by_subject: dict[FlagSubject, tuple[ResolvedBuiltin, ...]] = {}
    custom_by_subject: dict[FlagSubject, tuple[CustomRule, ...]] = {}
    selection: dict[FlagSubject, dict[str, frozenset[str]]] = {}
    for subject in FlagSubject:
        by_subject[subject] = tuple(b for b in builtins if subject in b.rule.applies_to)
        rules = tuple(r for r in custom if r.enabled and r.applies_to is subject)
        custom_by_subject[subject] = rules
        merged: dict[str, frozenset[str]] = {}
        for rule in rules:
            for namespace, names in rule.condition.selection.items():
                merged[namespace] = merged.get(namespace, frozenset()) | names
        selection[subject] = merged
    messages = {b.id: message_selection(b.message) for b in builtins}
    messages.update({r.id: message_selection(r.message) for r in custom})
    return Plan(
        builtins=MappingProxyType(by_subject),
        closed_item_builtins=MappingProxyType(
            {s: tuple(b for b in by_subject[s] if not b.rule.open_items_only) for s in FlagSubject}
        ),
        custom=MappingProxyType(custom_by_subject),
        selection=MappingProxyType(selection),
        messages=MappingProxyType(messages),
        readers=MappingProxyType(
            {subject: field_reader(subject, selection[subject]) for subject in FlagSubject}
        ),
        fingerprints=MappingProxyType({r.id: r.fingerprint_fields for r in custom}),
    )


@dataclass(frozen=True, kw_only=True)
class RuleSet:
    """Built-in settings and custom rules; `sources` names the layers it was composed from."""

    sources: tuple[str, ...] = ("builtin",)
    builtin_overrides: Mapping[str, BuiltinOverride] = field(default_factory=dict)
    custom_rules: tuple[CustomRule, ...] = ()
    plan: Plan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.builtin_overrides) - set(BUILTIN_BY_ID))
        if unknown:
            raise ValueError(f"unknown built-in rule(s): {', '.join(unknown)}")
        object.__setattr__(self, "plan", _plan(self.builtin_overrides, self.custom_rules))

    def override(self, *layers: RuleSet) -> RuleSet:
        """This set with each layer applied in turn (client, then project): later wins."""
        overrides = dict(self.builtin_overrides)
        custom = {rule.id: rule for rule in self.custom_rules}
        sources = list(self.sources)
        for layer in layers:
            for rule_id, o in layer.builtin_overrides.items():
                overrides[rule_id] = overrides[rule_id].then(o) if rule_id in overrides else o
            for rule in layer.custom_rules:
                custom.pop(rule.id, None)
                custom[rule.id] = rule
            sources.extend(s for s in layer.sources if s != "builtin")
        return RuleSet(
            sources=tuple(sources), builtin_overrides=overrides, custom_rules=tuple(custom.values())
        )

    def active_rule_ids(self, subject: FlagSubject) -> frozenset[str]:
        """Rules evaluated for a kind of subject: an open flag of any other rule should resolve."""
        return frozenset(
            [b.id for b in self.plan.builtins[subject]] + [r.id for r in self.plan.custom[subject]]
        )

    def builtin(self, rule_id: str) -> ResolvedBuiltin | None:
        """The settings in force for a built-in rule, or None when it is switched off."""
        for subject in FlagSubject:
            for resolved in self.plan.builtins[subject]:
                if resolved.id == rule_id:
                    return resolved
        return None


def default_rule_set() -> RuleSet:
    return RuleSet()
