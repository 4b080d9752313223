"""Message templates: `{item.key} is {days_overdue} days overdue`, filled from plain values only.

A template may name a variable (`{subject}`) or one field of a namespace (`{item.key}`), with an
optional format spec (`{milestone.percent_done:.0f}`). Lookups go through mappings only, never
attribute access or indexing, so a template cannot reach into Python objects.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")
_SPEC = re.compile(r"^[<>=^+\- #0-9,._%a-zA-Z]*$")

TemplateValues = Mapping[str, object]


class TemplateError(ValueError):
    """A template that names something outside its variables, or is not a valid template."""


def template_fields(template: str) -> list[str]:
    """The field names a template reads, checked for shape; raises TemplateError."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"message template: {exc}") from exc
    names: list[str] = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not _FIELD.match(name):
            raise TemplateError(f"message template field {{{name}}}: use a name or namespace.field")
        if conversion is not None:
            raise TemplateError(f"message template field {{{name}}}: conversions (!r, !s) are not allowed")
        if spec and ("{" in spec or not _SPEC.match(spec)):
            raise TemplateError(f"message template field {{{name}}}: unsupported format spec {spec!r}")
        names.append(name)
    return names


def check_template(template: str, known: Callable[[str], bool], known_names: Sequence[str]) -> None:
    for name in template_fields(template):
        if not known(name):
            raise TemplateError(
                f"message template field {{{name}}} is not available; known: {', '.join(known_names)}"
            )


class _MappingFormatter(string.Formatter):
    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, str]:
        head, _, tail = field_name.partition(".")
        value = kwargs[head]
        if tail:
            if not isinstance(value, Mapping):
                raise KeyError(field_name)
            value = value[tail]
        return value, field_name


_FORMATTER = _MappingFormatter()


@lru_cache(maxsize=4096)
def _names_only(template: str) -> bool:
    """Whether every field is a plain name, which `str.format_map` looks up by key alone."""
    try:
        return all("." not in name for name in template_fields(template))
    except TemplateError:
        return False


def render(template: str, values: TemplateValues) -> str:
    """The message; the template text itself when a value does not fit its field's format."""
    try:
        if _names_only(template):
            return template.format_map(values)
        return _FORMATTER.vformat(template, (), values)
    except (KeyError, ValueError, TypeError, IndexError):
        return template
