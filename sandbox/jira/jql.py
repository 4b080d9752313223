"""A JQL parser for the subset clients send: clauses joined by AND/OR/NOT, lists, functions, ORDER BY.

Syntax errors carry Jira's wording ("Error in the JQL Query: …") so clients see the same 400 bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

_SPECIAL = set("()=,!<>~\"'")
_OPERATORS = ("!=", ">=", "<=", "!~", "=", ">", "<", "~")
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}


class JqlError(ValueError):
    """A query Jira would answer with 400; `message` is the errorMessages text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "word" | "string" | "op" | "(" | ")" | "," | "eof"
    text: str
    position: int

    def keyword(self) -> str | None:
        if self.kind != "word":
            return None
        lowered = self.text.lower()
        if lowered in ("&&", "&"):
            return "and"
        if lowered in ("||", "|"):
            return "or"
        return lowered if lowered in _KEYWORDS else None


@dataclass(frozen=True, slots=True)
class Literal:
    text: str


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Empty:
    pass


Operand = Literal | Function | Empty


@dataclass(frozen=True, slots=True)
class Clause:
    field: str
    operator: str  # = != > >= < <= ~ !~ in "not in" is "is not"
    operands: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderBy:
    field: str
    descending: bool


@dataclass(frozen=True, slots=True)
class Query:
    where: Node | None
    order: tuple[OrderBy, ...]


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "(),":
            tokens.append(Token(char, char, i))
            i += 1
        elif char in "\"'":
            start = i
            i += 1
            chars: list[str] = []
            while i < length and text[i] != char:
                if text[i] == "\\" and i + 1 < length:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= length:
                raise JqlError(
                    "Error in the JQL Query: The quoted string starting at character "
                    f"{start + 1} is not closed."
                )
            tokens.append(Token("string", "".join(chars), start))
            i += 1
        elif char in "=!<>~":
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise JqlError(
                    f"Error in the JQL Query: The character '{char}' is a reserved JQL character. "
                    f"(line 1, character {i + 1})"
                )
            tokens.append(Token("op", op, i))
            i += len(op)
        else:
            start = i
            while i < length and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            tokens.append(Token("word", text[start:i], start))
    tokens.append(Token("eof", "", length))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expected: str) -> JqlError:
        token = self.current
        got = "end of query" if token.kind == "eof" else f"'{token.text}'"
        return JqlError(
            f"Error in the JQL Query: Expecting {expected} but got {got}. "
            f"(line 1, character {token.position + 1})"
        )

    def parse(self) -> Query:
        where: Node | None = None
        if self.current.kind != "eof" and self.current.keyword() != "order":
            where = self.parse_or()
        order: list[OrderBy] = []
        if self.current.keyword() == "order":
            self.advance()
            if self.current.keyword() != "by":
                raise self.fail("'by'")
            self.advance()
            order.append(self.parse_order_item())
            while self.current.kind == ",":
                self.advance()
                order.append(self.parse_order_item())
        if self.current.kind != "eof":
            raise self.fail("either 'OR' or 'AND'")
        return Query(where, tuple(order))

    def parse_order_item(self) -> OrderBy:
        field = self.parse_field()
        descending = False
        keyword = self.current.keyword()
        if keyword in ("asc", "desc"):
            self.advance()
            descending = keyword == "desc"
        return OrderBy(field, descending)

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.current.keyword() == "or":
            self.advance()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while self.current.keyword() == "and":
            self.advance()
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        if self.current.keyword() == "not":
            self.advance()
            return Not(self.parse_unary())
        if self.current.kind == "(":
            self.advance()
            node = self.parse_or()
            if self.current.kind != ")":
                raise self.fail("')'")
            self.advance()
            return node
        return self.parse_clause()

    def parse_field(self) -> str:
        token = self.current
        if token.kind == "string" or (token.kind == "word" and token.keyword() is None):
            self.advance()
            return token.text
        raise self.fail("a field name")

    def parse_clause(self) -> Clause:
        field = self.parse_field()
        token = self.current
        keyword = token.keyword()
        if token.kind == "op":
            self.advance()
            return Clause(field, token.text, (self.parse_operand(),))
        if keyword == "in":
            self.advance()
            return Clause(field, "in", self.parse_list())
        if keyword == "not":
            self.advance()
            if self.current.keyword() != "in":
                raise self.fail("'IN'")
            self.advance()
            return Clause(field, "not in", self.parse_list())
        if keyword == "is":
            self.advance()
            operator = "is"
            if self.current.keyword() == "not":
                self.advance()
                operator = "is not"
            if self.current.keyword() not in ("empty", "null"):
                raise self.fail("'EMPTY'")
            self.advance()
            return Clause(field, operator, (Empty(),))
        raise self.fail("operator")

    def parse_operand(self) -> Operand:
        token = self.current
        if token.kind == "string":
            self.advance()
            return Literal(token.text)
        if token.kind == "word":
            if token.keyword() in ("empty", "null"):
                self.advance()
                return Empty()
            if token.keyword() is not None:
                raise self.fail("a value")
            self.advance()
            if self.current.kind == "(":
                return Function(token.text, self.parse_arguments())
            return Literal(token.text)
        raise self.fail("a value")

    def parse_arguments(self) -> tuple[str, ...]:
        self.advance()
        args: list[str] = []
        while self.current.kind != ")":
            token = self.advance()
            if token.kind not in ("word", "string"):
                raise self.fail("')'")
            args.append(token.text)
            if self.current.kind == ",":
                self.advance()
        self.advance()
        return tuple(args)

    def parse_list(self) -> tuple[Operand, ...]:
        if self.current.kind == "word" and self.tokens[self.index + 1].kind == "(":
            operand = self.parse_operand()
            return (operand,)
        if self.current.kind != "(":
            raise self.fail("'('")
        self.advance()
        operands = [self.parse_operand()]
        while self.current.kind == ",":
            self.advance()
            operands.append(self.parse_operand())
        if self.current.kind != ")":
            raise self.fail("')'")
        self.advance()
        return tuple(operands)


def parse_jql(text: str) -> Query:
    return _Parser(text).parse()
