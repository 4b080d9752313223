from __future__ import annotations

import pytest

from sandbox.jira.jql import And, Clause, Empty, Function, JqlError, Literal, Not, Or, parse_jql


def test_parse_jql_clause_and_order_by_returns_tree() -> None:
    query = parse_jql("project = ABC AND updated >= '2020-01-01 00:00' order by updated asc, id DESC")
    assert query.where == And(
        (Clause("project", "=", (Literal("ABC"),)), Clause("updated", ">=", (Literal("2020-01-01 00:00"),)))
    )
    assert [(o.field, o.descending) for o in query.order] == [("updated", False), ("id", True)]


def test_parse_jql_in_list_and_not_in_returns_operands() -> None:
    query = parse_jql('key in (ABC-1, "ABC-2") and status not in (Done)')
    assert query.where == And(
        (
            Clause("key", "in", (Literal("ABC-1"), Literal("ABC-2"))),
            Clause("status", "not in", (Literal("Done"),)),
        )
    )


def test_parse_jql_or_binds_looser_than_and() -> None:
    query = parse_jql("a = 1 OR b = 2 AND c = 3")
    assert isinstance(query.where, Or)
    assert isinstance(query.where.children[1], And)


def test_parse_jql_not_and_parentheses_nest() -> None:
    query = parse_jql("NOT (a = 1 OR b = 2)")
    assert isinstance(query.where, Not)
    assert isinstance(query.where.child, Or)


def test_parse_jql_functions_and_empty_become_operands() -> None:
    query = parse_jql("assignee = currentUser() AND duedate is EMPTY AND sprint in openSprints()")
    assert isinstance(query.where, And)
    assert query.where.children == (
        Clause("assignee", "=", (Function("currentUser", ()),)),
        Clause("duedate", "is", (Empty(),)),
        Clause("sprint", "in", (Function("openSprints", ()),)),
    )


def test_parse_jql_custom_field_reference_is_a_field_name() -> None:
    query = parse_jql("cf[10021] is not EMPTY")
    assert query.where == Clause("cf[10021]", "is not", (Empty(),))


def test_parse_jql_order_by_only_has_no_restriction() -> None:
    query = parse_jql("order by key desc")
    assert query.where is None


@pytest.mark.parametrize(
    ("jql", "fragment"),
    [
        ("project = ", "Expecting a value but got end of query"),
        ("project = ABC foo = 1", "Expecting either 'OR' or 'AND' but got 'foo'"),
        ("project = 'ABC", "is not closed"),
        ("project ABC", "Expecting operator"),
        ("(project = ABC", "Expecting ')'"),
    ],
    ids=["missing-value", "missing-conjunction", "unclosed-quote", "missing-operator", "unclosed-paren"],
)
def test_parse_jql_syntax_error_uses_jira_wording(jql: str, fragment: str) -> None:
    with pytest.raises(JqlError) as raised:
        parse_jql(jql)
    assert raised.value.message.startswith("Error in the JQL Query:")
    assert fragment in raised.value.message
