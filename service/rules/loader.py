"""Rule sets from YAML, refused with the line and the reason when anything is off.

    builtin:                        # optional: settings of the built-in rules
      overdue_commitment:
        severity: critical          # enabled, severity, push_to_jira, client_visible, message
        grace_days: 1               # and the rule's own thresholds
      stale_in_progress:
        enabled: false
    rules:                          # optional: custom rules
      - id: vip-late
        applies_to: item            # item | milestone | project
        when: "item.days_overdue > 2 && 'vip' in item.labels"
        severity: critical          # info | warning | critical
        message: "{item.key} is {item.days_overdue} days late"
        push_to_jira: true          # optional, default false
        client_visible: false       # optional, default false
        enabled: true               # optional; false switches off an inherited rule of that id

Line numbers are 1-based and come from the YAML node marks.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from service.domain.enums import FlagSubject, Severity
from service.rules.builtin import BuiltinRule
from service.rules.conditions import compile_condition
from service.rules.context import GLOBAL_FIELDS, NAMESPACES
from service.rules.errors import RuleError
from service.rules.messages import TemplateError, check_template
from service.rules.pack import BUILTIN_BY_ID
from service.rules.params import ParamValue, validate_param
from service.rules.ruleset import BuiltinOverride, CustomRule, RuleSet

_RULE_ID = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_RULE_KEYS = ("id", "applies_to", "when", "severity", "message", "push_to_jira", "client_visible", "enabled")
_REQUIRED = ("id", "applies_to", "when", "severity", "message")
_BUILTIN_SETTINGS = ("enabled", "severity", "push_to_jira", "client_visible", "message")


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Reader:
    def __init__(self, text: str, source_name: str) -> None:
        self.source_name = source_name
        self.loader = yaml.SafeLoader(text)

    def error(self, node: Node | None, reason: str) -> RuleError:
        return RuleError(
            source_name=self.source_name, line=_line(node) if node is not None else None, reason=reason
        )

    def value(self, node: Node) -> object:
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: Node, what: str) -> list[tuple[str, ScalarNode, Node]]:
        if not isinstance(node, MappingNode):
            raise self.error(node, f"{what} must be a mapping")
        entries: list[tuple[str, ScalarNode, Node]] = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key_node, ScalarNode) or not isinstance(key, str):
                raise self.error(key_node, f"{what}: keys must be strings")
            if key in seen:
                raise self.error(key_node, f"{what}: duplicate key {key!r}")
            seen.add(key)
            entries.append((key, key_node, value_node))
        return entries

    def string(self, node: Node, what: str) -> str:
        value = self.value(node)
        if not isinstance(node, ScalarNode) or not isinstance(value, str) or not value.strip():
            raise self.error(node, f"{what} must be a non-empty string")
        return value

    def boolean(self, node: Node, what: str) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise self.error(node, f"{what} must be true or false")
        return value

    def severity(self, node: Node) -> Severity:
        value = self.value(node)
        try:
            return Severity(value if isinstance(value, str) else repr(value))
        except ValueError:
            allowed = ", ".join(s.value for s in Severity)
            raise self.error(node, f"severity must be one of {allowed}, not {value!r}") from None


def _message_check(subject: FlagSubject, extra: tuple[str, ...]) -> tuple[Callable[[str], bool], list[str]]:
    namespaces = NAMESPACES[subject]

    def known(name: str) -> bool:
        head, _, tail = name.partition(".")
        if not tail:
            return head in extra or head in GLOBAL_FIELDS or head == "subject"
        return head in namespaces and tail in namespaces[head].fields

    names = ["subject", *extra, *GLOBAL_FIELDS, *(f"{ns}.<field>" for ns in namespaces)]
    return known, names


def _custom_rule(reader: _Reader, node: Node, seen: dict[str, int]) -> CustomRule:
    entries = {key: (key_node, value) for key, key_node, value in reader.mapping(node, "a rule")}
    for key, (key_node, _) in entries.items():
        if key not in _RULE_KEYS:
            raise reader.error(key_node, f"unknown key {key!r} in a rule; allowed: {', '.join(_RULE_KEYS)}")
    for key in _REQUIRED:
        if key not in entries:
            raise reader.error(node, f"rule is missing {key!r}")
    id_node = entries["id"][1]
    rule_id = reader.string(id_node, "id")
    if not _RULE_ID.match(rule_id):
        raise reader.error(id_node, f"id {rule_id!r} must match {_RULE_ID.pattern}")
    if rule_id in BUILTIN_BY_ID:
        raise reader.error(id_node, f"id {rule_id!r} is a built-in rule; configure it under 'builtin'")
    if rule_id in seen:
        raise reader.error(id_node, f"id {rule_id!r} already used on line {seen[rule_id]}")
    seen[rule_id] = _line(id_node)
    applies_node = entries["applies_to"][1]
    applies_value = reader.value(applies_node)
    try:
        applies_to = FlagSubject(applies_value if isinstance(applies_value, str) else repr(applies_value))
    except ValueError:
        allowed = ", ".join(s.value for s in FlagSubject)
        raise reader.error(
            applies_node, f"applies_to must be one of {allowed}, not {applies_value!r}"
        ) from None
    when_node = entries["when"][1]
    when = reader.string(when_node, "when")
    try:
        condition = compile_condition(when, applies_to)
    except ValueError as exc:
        raise reader.error(when_node, str(exc)) from None
    message_node = entries["message"][1]
    message = reader.string(message_node, "message")
    known, names = _message_check(applies_to, ())
    try:
        check_template(message, known, names)
    except TemplateError as exc:
        raise reader.error(message_node, str(exc)) from None

    def flag(key: str) -> bool | None:
        return reader.boolean(entries[key][1], key) if key in entries else None

    return CustomRule(
        id=rule_id,
        applies_to=applies_to,
        when=when,
        severity=reader.severity(entries["severity"][1]),
        message=message,
        push_to_jira=flag("push_to_jira") or False,
        client_visible=flag("client_visible") or False,
        enabled=flag("enabled") is not False,
        source_name=reader.source_name,
        line=_line(node),
        condition=condition,
    )


def _builtin_override(reader: _Reader, rule: BuiltinRule[object], node: Node) -> BuiltinOverride:
    settings: dict[str, object] = {}
    params: dict[str, ParamValue] = {}
    for key, key_node, value_node in reader.mapping(node, f"builtin.{rule.id}"):
        if key in ("enabled", "push_to_jira", "client_visible"):
            settings[key] = reader.boolean(value_node, key)
        elif key == "severity":
            settings[key] = reader.severity(value_node)
        elif key == "message":
            message = reader.string(value_node, "message")
            subjects = sorted(rule.applies_to)
            for subject in subjects:
                known, names = _message_check(subject, rule.evidence_keys)
                try:
                    check_template(message, known, names)
                except TemplateError as exc:
                    raise reader.error(value_node, str(exc)) from None
            settings[key] = message
        else:
            try:
                params[key] = validate_param(rule.params, key, reader.value(value_node))
            except ValueError as exc:
                raise reader.error(key_node, f"builtin.{rule.id}: {exc}") from None
    return BuiltinOverride(rule_id=rule.id, params=params, **settings)  # type: ignore[arg-type]


def load_rule_set(text: str, *, source_name: str) -> RuleSet:
    """Parse and check a rule set; RuleError(line, reason) on the first problem found."""
    try:
        reader = _Reader(text, source_name)
        root = reader.loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        # The YAML reader refuses unprintable characters before parsing starts, by position.
        raise RuleError(
            source_name=source_name,
            line=text.count("\n", 0, exc.position) + 1,
            reason=f"invalid YAML: character {exc.character:#x} is not allowed",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        raise RuleError(source_name=source_name, line=line, reason=f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise RuleError(source_name=source_name, line=None, reason=f"invalid YAML: {exc}") from None
    if root is None:
        return RuleSet(sources=(source_name,))
    overrides: dict[str, BuiltinOverride] = {}
    custom: list[CustomRule] = []
    for key, key_node, value_node in reader.mapping(root, "a rule set"):
        if key == "builtin":
            for rule_id, id_node, rule_node in reader.mapping(value_node, "builtin"):
                rule = BUILTIN_BY_ID.get(rule_id)
                if rule is None:
                    raise reader.error(
                        id_node, f"unknown built-in rule {rule_id!r}; known: {', '.join(BUILTIN_BY_ID)}"
                    )
                overrides[rule_id] = _builtin_override(reader, rule, rule_node)
        elif key == "rules":
            if not isinstance(value_node, SequenceNode):
                raise reader.error(value_node, "rules must be a list")
            seen: dict[str, int] = {}
            custom.extend(_custom_rule(reader, rule_node, seen) for rule_node in value_node.value)
        else:
            raise reader.error(key_node, f"unknown key {key!r}; a rule set has 'builtin' and 'rules'")
    return RuleSet(sources=(source_name,), builtin_overrides=overrides, custom_rules=tuple(custom))
