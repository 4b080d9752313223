"""Turn a parsed JQL query into a predicate over issues plus what the index needs to plan (projects, bounds).

Value and field errors use Jira's wording, e.g. "The value 'X' does not exist for the field 'project'."
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo

from sandbox.jira.jql import (
    And,
    Clause,
    Empty,
    Function,
    JqlError,
    Literal,
    Node,
    Not,
    Operand,
    Or,
    Query,
)
from sandbox.jira.jqlfields import (
    SET_FIELDS,
    TIME_GETTERS,
    JqlSite,
    field_error,
    operator_error,
    resolve_project_operand,
    value_error,
)
from sandbox.jira.model import (
    Issue,
)
from sandbox.jira.timefmt import parse_jql_time, start_of_day_ms

Predicate = Callable[[Issue], bool]
NEVER_MS = -(2**62)
FOREVER_MS = 2**62

_FIELD_ALIASES = {
    "issuekey": "key",
    "issue": "key",
    "type": "issuetype",
    "due": "duedate",
    "resolutiondate": "resolved",
    "fixversion": "fixversion",
    "cf[10016]": "story points",
    "story point estimate": "story points",
    "story points": "story points",
    "cf[10020]": "sprint",
    "cf[10021]": "flagged",
    "cf[10015]": "start date",
    "startdate": "start date",
    "category": "statuscategory",
}
ORDERABLE_FIELDS = {
    "updated",
    "created",
    "key",
    "id",
    "duedate",
    "priority",
    "status",
    "resolved",
    "summary",
    "rank",
}


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    predicate: Predicate
    order: tuple[tuple[str, bool], ...]  # (canonical field, descending)
    project_ids: frozenset[int] | None
    bounds: dict[str, tuple[int, int]]  # field -> inclusive (low, high) in epoch ms


def canonical_field(name: str) -> str:
    lowered = name.strip().lower()
    return _FIELD_ALIASES.get(lowered, lowered)


class _Compiler:
    def __init__(self, site: JqlSite) -> None:
        self.site = site
        self.now = site.now_ms()

    def node(self, node: Node) -> Predicate:
        if isinstance(node, And):
            parts = [self.node(c) for c in node.children]
            return lambda issue: all(p(issue) for p in parts)
        if isinstance(node, Or):
            parts = [self.node(c) for c in node.children]
            return lambda issue: any(p(issue) for p in parts)
        if isinstance(node, Not):
            inner = self.node(node.child)
            return lambda issue: not inner(issue)
        return self.clause(node)

    def clause(self, clause: Clause) -> Predicate:
        field = canonical_field(clause.field)
        if field in TIME_GETTERS:
            return self.time_clause(clause, TIME_GETTERS[field])
        if field == "story points":
            return self.number_clause(clause)
        if field in ("summary", "description", "text"):
            return self.text_clause(clause, field)
        if field == "id":
            field = "key"
        resolver = SET_FIELDS.get(field)
        if resolver is None:
            raise field_error(clause.field)
        getter, resolve = resolver
        return self.set_clause(clause, getter, lambda literal: resolve(self.site, literal, clause.field))

    def set_clause(
        self,
        clause: Clause,
        getter: Callable[[Issue], Iterable[object]],
        resolve: Callable[[Operand], set[object]],
    ) -> Predicate:
        op = clause.operator
        if op in ("is", "is not"):
            if op == "is":
                return lambda issue: not any(True for _ in getter(issue))
            return lambda issue: any(True for _ in getter(issue))
        if op not in ("=", "!=", "in", "not in"):
            raise operator_error(op, clause.field)
        wanted: set[object] = set()
        include_empty = False
        for operand in clause.operands:
            if isinstance(operand, Empty):
                include_empty = True
            else:
                wanted |= resolve(operand)
        if op in ("=", "in"):
            return lambda issue: _matches(getter(issue), wanted, include_empty)

        def excluded(issue: Issue) -> bool:
            values = list(getter(issue))
            if not values:
                return False  # Jira's negative operators never match EMPTY
            return not any(v in wanted for v in values)

        return excluded

    def time_operand(self, operand: Operand, name: str) -> int:
        tz = self.site.tz
        if isinstance(operand, Function):
            fn = operand.name.lower()
            days = int(operand.args[0].rstrip("d")) if operand.args else 0
            if fn == "now":
                return self.now
            if fn == "startofday":
                return start_of_day_ms(self.now, tz, days=days)
            if fn == "endofday":
                return start_of_day_ms(self.now, tz, days=days + 1) - 1
            raise JqlError(f"Unable to find JQL function '{operand.name}()'.")
        if isinstance(operand, Literal):
            parsed = parse_jql_time(operand.text, tz=tz, now_ms=self.now)
            if parsed is not None:
                return parsed
            raise JqlError(
                f"Date value '{operand.text}' for field '{name}' is invalid. Valid formats include: "
                "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. "
                "'-5d', '4w 2d'."
            )
        raise JqlError(f"Date value 'EMPTY' for field '{name}' is invalid.")

    def time_clause(self, clause: Clause, getter: Callable[[Issue, tzinfo], int | None]) -> Predicate:
        tz = self.site.tz
        op = clause.operator
        if op == "is":
            return lambda issue: getter(issue, tz) is None
        if op == "is not":
            return lambda issue: getter(issue, tz) is not None
        if op in ("in", "not in"):
            values = {self.time_operand(o, clause.field) for o in clause.operands}
            if op == "in":
                return lambda issue: getter(issue, tz) in values
            return lambda issue: (v := getter(issue, tz)) is not None and v not in values
        compare = _COMPARATORS.get(op)
        if compare is None:
            raise operator_error(op, clause.field)
        bound = self.time_operand(clause.operands[0], clause.field)
        return lambda issue: (v := getter(issue, tz)) is not None and compare(v, bound)

    def number_clause(self, clause: Clause) -> Predicate:
        op = clause.operator
        if op == "is":
            return lambda issue: issue.story_points is None
        if op == "is not":
            return lambda issue: issue.story_points is not None
        operand = clause.operands[0]
        compare = _COMPARATORS.get(op)
        if compare is None or not isinstance(operand, Literal):
            raise operator_error(op, clause.field)
        try:
            bound = float(operand.text)
        except ValueError:
            raise value_error(operand.text, clause.field) from None
        return lambda issue: issue.story_points is not None and compare(issue.story_points, bound)

    def text_clause(self, clause: Clause, field: str) -> Predicate:
        operand = clause.operands[0]
        if clause.operator not in ("~", "!~") or not isinstance(operand, Literal):
            raise operator_error(clause.operator, clause.field)
        needle = operand.text.lower().strip("*")
        negate = clause.operator == "!~"

        def text_of(issue: Issue) -> str:
            if field == "summary":
                return issue.summary
            if field == "description":
                return issue.description or ""
            return f"{issue.summary} {issue.description or ''}"

        return lambda issue: (needle in text_of(issue).lower()) != negate


def _matches(values: Iterable[object], wanted: set[object], include_empty: bool) -> bool:
    seen = False
    for value in values:
        seen = True
        if value in wanted:
            return True
    return include_empty and not seen


_COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _top_level_clauses(node: Node | None) -> list[Clause]:
    if isinstance(node, Clause):
        return [node]
    if isinstance(node, And):
        return [c for child in node.children for c in _top_level_clauses(child)]
    return []


def compile_query(query: Query, site: JqlSite, *, allow_unbounded: bool = False) -> CompiledQuery:
    """Compile `query`; raises JqlError for unbounded queries and unknown fields, values or functions.

    Cloud's enhanced search rejects queries without a restriction; Data Center's /search accepts them.
    """
    if query.where is None and not allow_unbounded:
        raise JqlError(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
        )
    if len(query.order) > 7:
        raise JqlError("JQL can be ordered by at most 7 fields.")
    order: list[tuple[str, bool]] = []
    for item in query.order:
        field = canonical_field(item.field)
        if field not in ORDERABLE_FIELDS:
            raise JqlError(f"Field '{item.field}' does not exist or you do not have permission to view it.")
        order.append((field, item.descending))
    compiler = _Compiler(site)
    predicate: Predicate = compiler.node(query.where) if query.where is not None else (lambda issue: True)
    project_ids: frozenset[int] | None = None
    bounds: dict[str, tuple[int, int]] = {}
    for clause in _top_level_clauses(query.where):
        field = canonical_field(clause.field)
        if field == "project" and clause.operator in ("=", "in"):
            ids = frozenset(
                pid
                for operand in clause.operands
                if not isinstance(operand, Empty)
                for pid in resolve_project_operand(site, operand, clause.field)
                if isinstance(pid, int)
            )
            project_ids = ids if project_ids is None else project_ids & ids
        elif field in ("updated", "created") and clause.operator in _COMPARATORS and clause.operator != "!=":
            value = compiler.time_operand(clause.operands[0], clause.field)
            low, high = bounds.get(field, (NEVER_MS, FOREVER_MS))
            op = clause.operator
            if op in (">=", "=", ">"):
                low = max(low, value + (1 if op == ">" else 0))
            if op in ("<=", "=", "<"):
                high = min(high, value - (1 if op == "<" else 0))
            bounds[field] = (low, high)
    return CompiledQuery(predicate, tuple(order), project_ids, bounds)
