"""CEL conditions: compiled once, checked against the documented context, evaluated cheaply.

`common-expression-language` is dynamically typed, so a condition is checked at load time in three
steps: it must parse; every `namespace.field` it names must exist in the context of its
`applies_to`; and it must evaluate to a bool on two sample contexts (all flags true, all false),
which catches unknown variables and type mismatches such as `item.priority > 3`. Evaluating only
the fields a rule set names keeps the per-item conversion into CEL values small.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import cel

from service.domain.enums import FlagSubject
from service.rules.context import EPOCH, GLOBAL_FIELDS, NAMESPACES, CelValue, ContextField
from service.rules.reading import FieldPath, nest

_STRING_LITERAL = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\''
)
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
# The CEL runtime reports a condition that does not fit the values it met as ValueError,
# RuntimeError, TypeError, KeyError or IndexError, depending on the failure; none of them may stop
# the evaluation of the other rules and subjects, so all are caught.
CEL_ERRORS = (Exception,)


@dataclass(frozen=True, slots=True)
class Condition:
    source: str
    program: cel.Program
    # Namespace -> fields read; "" holds top-level names (now, today). A namespace used whole
    # (e.g. passed to a function) selects all its fields.
    selection: Mapping[str, frozenset[str]]
    # The same as (namespace, field) paths in a fixed order: the result depends on these only.
    inputs: tuple[FieldPath, ...]
    # Reads the inputs' values from flat values: equal keys give equal results.
    key: Callable[[Mapping[FieldPath, CelValue]], object]

    def evaluate(self, values: Mapping[FieldPath, CelValue]) -> bool:
        """The condition on flat values that hold at least its inputs."""
        result = self.program.execute(nest(values, self.inputs))
        if not isinstance(result, bool):
            raise TypeError(f"condition gave {type(result).__name__}, not bool")
        return result


def _key_reader(inputs: tuple[FieldPath, ...]) -> Callable[[Mapping[FieldPath, CelValue]], object]:
    if not inputs:
        return lambda values: ()
    return itemgetter(*inputs)


def _sample(field: ContextField[Any], flag: bool, now: datetime) -> CelValue:
    samples: dict[str, CelValue] = {
        "int": 1,
        "double": 1.0,
        "string": "x",
        "bool": flag,
        "timestamp": now,
        "list<string>": ("x",),
        "list<int>": (1,),
    }
    return samples[field.cel_type]


def sample_context(subject: FlagSubject, *, flag: bool) -> dict[str, CelValue | dict[str, CelValue]]:
    now = EPOCH.replace(year=2026)
    context: dict[str, CelValue | dict[str, CelValue]] = {
        name: _sample(field, flag, now) for name, field in GLOBAL_FIELDS.items()
    }
    for name, namespace in NAMESPACES[subject].items():
        context[name] = {
            field_name: _sample(field, flag, now) for field_name, field in namespace.fields.items()
        }
    return context


def _selection(source: str, subject: FlagSubject, variables: list[str]) -> dict[str, frozenset[str]]:
    code = _STRING_LITERAL.sub('""', source)
    selection: dict[str, frozenset[str]] = {}
    for namespace, spec in NAMESPACES[subject].items():
        fields = spec.fields
        wanted: set[str] = set()
        whole = False
        pattern = re.compile(rf"(?<![\w.]){namespace}\b(\s*\.\s*({_IDENTIFIER}))?")
        for match in pattern.finditer(code):
            field_name = match.group(2)
            if field_name is None:
                whole = True
            elif field_name not in fields:
                raise ValueError(
                    f"unknown field {namespace}.{field_name}; {namespace} has: {', '.join(sorted(fields))}"
                )
            else:
                wanted.add(field_name)
        if whole:
            wanted = set(fields)
        if wanted:
            selection[namespace] = frozenset(wanted)
    top = {name for name in variables if name in GLOBAL_FIELDS}
    if top:
        selection[""] = frozenset(top)
    return selection


def compile_condition(source: str, subject: FlagSubject) -> Condition:
    """A checked, compiled condition; ValueError with the reason when it is not usable."""
    if not source.strip():
        raise ValueError("empty condition")
    try:
        program = cel.compile(source)
    except ValueError as exc:
        raise ValueError(f"invalid CEL: {exc}") from exc
    selection = _selection(source, subject, program.variables())
    for flag in (True, False):
        try:
            result = program.execute(sample_context(subject, flag=flag))
        except CEL_ERRORS as exc:
            raise ValueError(f"condition cannot be evaluated for applies_to {subject.value}: {exc}") from exc
        if not isinstance(result, bool):
            raise ValueError(f"condition must be a bool, it gives {type(result).__name__}")
    inputs = tuple(sorted((ns, name) for ns, names in selection.items() for name in names))
    return Condition(
        source=source, program=program, selection=selection, inputs=inputs, key=_key_reader(inputs)
    )
