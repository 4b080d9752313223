"""Which items of a scoped project a client sees, as one SQL condition on `work_items`.

A scope takes every item, or those with a label, under an epic or parent, in a component, or
matching a filter the operator writes. The filter is a conjunction of terms `field:value[,value…]`
(any of the values), each optionally negated with `-`; values with spaces are quoted:
`label:client,"client visible" -label:internal kind:story,bug`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, cast, exists, false, func, literal, not_, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import InstrumentedAttribute, aliased

from service.domain.enums import ItemKind, Priority, ScopeRule, StatusCategory, Visibility
from service.errors import InvalidInputError
from service.store.orm import WorkItemRow

MAX_FILTER_TERMS = 20


class FilterField(StrEnum):
    LABEL = "label"
    COMPONENT = "component"
    KIND = "kind"
    PARENT = "parent"
    CATEGORY = "category"
    PRIORITY = "priority"
    STATUS = "status"


_CLOSED_VALUES: dict[FilterField, frozenset[str]] = {
    FilterField.KIND: frozenset(ItemKind),
    FilterField.CATEGORY: frozenset(StatusCategory),
    FilterField.PRIORITY: frozenset(Priority),
}


@dataclass(frozen=True, slots=True)
class FilterTerm:
    field: FilterField
    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class ScopeGrant:
    """One scoped project of a client and the rule selecting its items."""

    project_id: int
    rule: ScopeRule
    value: str | None


def parse_scope_filter(text: str) -> tuple[FilterTerm, ...]:
    """Parse an operator's filter; an unknown field or value raises InvalidInputError."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise InvalidInputError(f"the filter cannot be read: {exc}") from exc
    if not words:
        raise InvalidInputError("the filter is empty")
    if len(words) > MAX_FILTER_TERMS:
        raise InvalidInputError(f"a filter has at most {MAX_FILTER_TERMS} terms")
    return tuple(_parse_term(word) for word in words)


def _parse_term(word: str) -> FilterTerm:
    negated = word.startswith("-")
    name, sep, raw_values = word.removeprefix("-").partition(":")
    if not sep:
        raise InvalidInputError(f"filter term {word!r} is not field:value", details={"term": word})
    try:
        field = FilterField(name.lower())
    except ValueError:
        raise InvalidInputError(
            f"unknown filter field {name!r}", details={"fields": sorted(f.value for f in FilterField)}
        ) from None
    values = tuple(value.strip() for value in raw_values.split(",") if value.strip())
    if not values:
        raise InvalidInputError(f"filter term {word!r} has no value", details={"term": word})
    allowed = _CLOSED_VALUES.get(field)
    if allowed is not None:
        values = tuple(value.lower() for value in values)
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise InvalidInputError(
                f"unknown {field.value} {unknown[0]!r}", details={"allowed": sorted(allowed)}
            )
    return FilterTerm(field=field, values=values, negated=negated)


def _array_contains_any(
    column: InstrumentedAttribute[list[str]], values: Sequence[str], dialect: str
) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return or_(
            *(
                column.op("@>", is_comparison=True)(cast(literal(json.dumps([value])), JSONB))
                for value in values
            )
        )
    elements = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(elements).where(elements.c.value.in_(list(values))))


def _under_parent(values: Sequence[str]) -> ColumnElement[bool]:
    """The item is one of `values` (a key or an external id) or a child of one of them."""
    parent = aliased(WorkItemRow)
    parent_ids = select(parent.external_id).where(
        parent.source_id == WorkItemRow.source_id,
        or_(parent.key.in_(list(values)), parent.external_id.in_(list(values))),
    )
    return or_(
        WorkItemRow.key.in_(list(values)),
        WorkItemRow.external_id.in_(list(values)),
        WorkItemRow.parent_external_id.in_(parent_ids),
    )


def _term_condition(term: FilterTerm, dialect: str) -> ColumnElement[bool]:
    condition: ColumnElement[bool]
    if term.field is FilterField.LABEL:
        condition = _array_contains_any(WorkItemRow.labels, term.values, dialect)
    elif term.field is FilterField.COMPONENT:
        condition = _array_contains_any(WorkItemRow.components, term.values, dialect)
    elif term.field is FilterField.PARENT:
        condition = _under_parent(term.values)
    elif term.field is FilterField.KIND:
        condition = WorkItemRow.kind.in_(list(term.values))
    elif term.field is FilterField.CATEGORY:
        condition = WorkItemRow.status_category.in_(list(term.values))
    elif term.field is FilterField.PRIORITY:
        condition = WorkItemRow.priority.in_(list(term.values))
    else:
        condition = func.lower(WorkItemRow.status).in_([value.lower() for value in term.values])
    return not_(condition) if term.negated else condition


def _rule_condition(grant: ScopeGrant, dialect: str) -> ColumnElement[bool]:
    value = grant.value or ""
    if grant.rule is ScopeRule.ALL:
        return true()
    if grant.rule is ScopeRule.LABEL:
        return _array_contains_any(WorkItemRow.labels, [value], dialect)
    if grant.rule is ScopeRule.COMPONENT:
        return _array_contains_any(WorkItemRow.components, [value], dialect)
    if grant.rule is ScopeRule.PARENT:
        return _under_parent([value])
    return and_(*(_term_condition(term, dialect) for term in parse_scope_filter(value)))


def visible_items_condition(grants: Sequence[ScopeGrant], *, dialect: str) -> ColumnElement[bool]:
    """Items a client may see: visible at the provider, in a scoped project, selected by its rule."""
    if not grants:
        return false()
    return and_(
        WorkItemRow.visibility == Visibility.VISIBLE.value,
        or_(*(and_(WorkItemRow.project_id == g.project_id, _rule_condition(g, dialect)) for g in grants)),
    )
