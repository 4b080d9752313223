"""Reading context fields of a subject: all of a selection, or a flat set for CEL conditions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.domain.enums import FlagSubject
from service.rules.context import GLOBAL_FIELDS, NAMESPACES, CelValue, Env, whole_facts
from service.rules.facts import Facts

# Which fields one set of rules reads: namespace -> field names; top-level scalars under "".
FieldSelection = Mapping[str, frozenset[str]]
Context = dict[str, CelValue | dict[str, CelValue]]


def full_selection(subject: FlagSubject) -> dict[str, frozenset[str]]:
    selection = {name: frozenset(ns.fields) for name, ns in NAMESPACES[subject].items()}
    selection[""] = frozenset(GLOBAL_FIELDS)
    return selection


def build_context(subject: FlagSubject, facts: Facts, env: Env, selection: FieldSelection) -> Context:
    """The CEL variables for one subject, holding only the selected fields (cheap to convert)."""
    namespaces = NAMESPACES[subject]
    context: Context = {}
    for name, wanted in selection.items():
        if name == "":
            for field_name in wanted:
                context[field_name] = GLOBAL_FIELDS[field_name].get(facts, env)
            continue
        namespace = namespaces[name]
        source = namespace.source(facts)
        fields = namespace.fields
        context[name] = {field_name: fields[field_name].get(source, env) for field_name in wanted}
    return context


# (namespace, field); the namespace is "" for top-level names.
FieldPath = tuple[str, str]
Values = dict[FieldPath, CelValue]
_Getters = tuple[tuple[FieldPath, Callable[[Any, Env], CelValue]], ...]


@dataclass(frozen=True, slots=True)
class FieldReader:
    """Reads a fixed set of fields of one kind of subject into a flat mapping, each source once."""

    groups: tuple[
        tuple[Callable[[Facts], Any], tuple[tuple[FieldPath, Callable[[Any, Env], CelValue]], ...]], ...
    ]

    def read(self, facts: Facts, env: Env) -> Values:
        values: Values = {}
        for source, getters in self.groups:
            origin = source(facts)
            values.update({path: get(origin, env) for path, get in getters})
        return values


def field_reader(subject: FlagSubject, selection: FieldSelection) -> FieldReader:
    groups: list[
        tuple[Callable[[Facts], Any], tuple[tuple[FieldPath, Callable[[Any, Env], CelValue]], ...]]
    ] = []
    for name, wanted in sorted(selection.items()):
        if name == "":
            getters = tuple(((name, f), GLOBAL_FIELDS[f].get) for f in sorted(wanted))
            groups.append((whole_facts, getters))
            continue
        namespace = NAMESPACES[subject][name]
        groups.append((namespace.source, tuple(((name, f), namespace.fields[f].get) for f in sorted(wanted))))
    return FieldReader(tuple(groups))


def nest(values: Mapping[FieldPath, CelValue], paths: tuple[FieldPath, ...]) -> Context:
    """CEL variables from flat values: `item.key` becomes {"item": {"key": ...}}."""
    context: Context = {}
    for namespace, name in paths:
        if namespace == "":
            context[name] = values[(namespace, name)]
            continue
        inner = context.setdefault(namespace, {})
        if isinstance(inner, dict):
            inner[name] = values[(namespace, name)]
    return context


def is_volatile(subject: FlagSubject, namespace: str, field_name: str) -> bool:
    if namespace == "":
        return GLOBAL_FIELDS[field_name].volatile
    return NAMESPACES[subject][namespace].fields[field_name].volatile
