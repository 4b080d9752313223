"""Fast-path rows derived from the table definitions: a domain object to a row for the driver, and the
driver's rows (or ORM rows) back to domain objects.

The tables (`orm_*.py`) are the one source of truth for the driver-level statements: which columns a
statement names, in which order (the table's), and how each value is converted on its way to and
from the driver (by the column's type, see `driver_dialect.column_kind`). A `RowMapping` pairs a
table with a domain dataclass: a column and a field of the same name carry the same value (an enum
field stores its `.value`, a tuple field reads back as a tuple); only the few that differ are
spelled out, once, where the mapping is declared. Adding a column means adding it to its table and
to the domain class (and the migration); every statement, row and read follows.

The row functions are compiled once per dialect from the columns, as `dataclasses` compiles an
`__init__`: a row costs what a hand-written tuple and constructor call cost, with no per-column
dispatch, which the bulk sync (100,000 issues) and a project's evaluation read (after every webhook
batch) would pay per value. Only identifiers checked as such and fixed code are compiled; every
value, converter and class reaches the code through its namespace.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, Table

from service.store.driver_dialect import DriverDialect

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Param:
    """A value the row function takes as an argument, by name, rather than from the object or row."""

    name: str


@dataclass(frozen=True, slots=True)
class Const:
    """A column written with a fixed value."""

    value: Any


@dataclass(frozen=True, slots=True)
class FromObject:
    """A column written with `function(obj)`, a value of the column's Python type."""

    function: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class FromColumns:
    """A field read as `function(*values)` of the named columns, each converted as its type converts it."""

    function: Callable[..., Any]
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Joined:
    """A field read from a column of another table, selected after the table's own columns."""

    column: Column[Any]


WriteSource = Param | Const | FromObject
ReadSource = Param | FromColumns | Joined


class RowMapping(Generic[T]):
    """How the rows of `table` and the domain objects of `domain` (a dataclass) correspond.

    Writing: every column but the generated id (and `omit`) is written, from the object's field of
    the same name unless `write` says otherwise; `write_params` are the row function's extra
    arguments, in order. Reading: every field of the domain class comes from the column of the same
    name unless `read` says otherwise; `read_params` are the read function's extra arguments.
    """

    def __init__(
        self,
        table: Table,
        domain: type[T],
        *,
        write: Mapping[str, WriteSource] | None = None,
        write_params: Sequence[str] = (),
        omit: Sequence[str] = (),
        read: Mapping[str, ReadSource] | None = None,
        read_params: Sequence[str] = (),
    ) -> None:
        self.table = table
        self.domain = domain
        self.write = dict(write or {})
        self.write_params = tuple(write_params)
        self.read = dict(read or {})
        self.read_params = tuple(read_params)
        generated = table.autoincrement_column
        left_out = {*omit} if generated is None else {generated.name, *omit}
        self.write_columns: tuple[Column[Any], ...] = tuple(
            c for c in table.columns if c.name not in left_out
        )
        for name in (*self.write_params, *self.read_params, *omit):
            _require_identifier(name)
        for name in self.write:
            if name not in table.c:
                raise ValueError(f"{table.name} has no column {name!r}")
        self._writers: dict[str, Callable[..., tuple[Any, ...]]] = {}
        self._readers: dict[str, RowsReader[T]] = {}
        self._orm_reader: Callable[..., T] | None = None

    @property
    def write_names(self) -> tuple[str, ...]:
        """The written columns' names, in table order."""
        return tuple(c.name for c in self.write_columns)

    def writer(self, dialect: DriverDialect) -> Callable[..., tuple[Any, ...]]:
        """`row(obj, *write_params)`: the row of `write_columns`, in the driver's form."""
        found = self._writers.get(dialect.name)
        if found is None:
            found = self._writers[dialect.name] = _compile_writer(self, dialect)
        return found

    def reader(self, dialect: DriverDialect) -> RowsReader[T]:
        """Reads the driver's rows of the table's columns (and the joined ones) into domain objects."""
        found = self._readers.get(dialect.name)
        if found is None:
            found = self._readers[dialect.name] = RowsReader(self, dialect)
        return found

    def orm_reader(self) -> Callable[..., T]:
        """`read(orm_row, *read_params)`: the domain object of one ORM row (values already converted)."""
        if self._orm_reader is None:
            self._orm_reader = _compile_orm_reader(self)
        return self._orm_reader

    def field_sources(self) -> list[tuple[str, ReadSource | Column[Any]]]:
        """Each domain field and where it is read from: a column of the table or a `ReadSource`."""
        sources: list[tuple[str, ReadSource | Column[Any]]] = []
        for field in dataclasses.fields(self.domain):  # type: ignore[arg-type]
            source = self.read.get(field.name)
            if isinstance(source, Param) and source.name not in self.read_params:
                raise ValueError(f"{source.name!r} is not one of {self.read_params}")
            if source is not None:
                sources.append((field.name, source))
            elif field.name in self.table.c:
                sources.append((field.name, self.table.c[field.name]))
            else:
                raise ValueError(f"{self.domain.__name__}.{field.name} has no column in {self.table.name}")
        return sources


class RowsReader(Generic[T]):
    """The columns a read selects (the table's, in table order, then the joined ones), and
    `build(rows, *read_params)`: the domain objects of the driver's rows of those columns."""

    def __init__(self, mapping: RowMapping[T], dialect: DriverDialect) -> None:
        self.table = mapping.table
        joined = [s.column for _, s in mapping.field_sources() if isinstance(s, Joined)]
        self.columns: tuple[Column[Any], ...] = (*mapping.table.columns, *joined)
        self._dialect = dialect
        self.build: Callable[..., list[T]] = _compile_reader(mapping, dialect, self.columns)

    def position(self, name: str) -> int:
        """Where the table's column `name` is in a selected row."""
        return next(i for i, c in enumerate(self.columns) if c.table is self.table and c.name == name)

    def select_list(self, *, qualified: bool = False, replace: Mapping[str, str] | None = None) -> str:
        """The SELECT list, quoted as SQLAlchemy quotes it; `replace` puts fixed SQL in the place of
        some of the table's columns (`{"raw": "NULL"}`)."""
        quote = self._dialect.quote
        replace = replace or {}
        spelled = []
        for column in self.columns:
            own = column.table is self.table
            if own and column.name in replace:
                spelled.append(replace[column.name])
            elif qualified or not own:
                spelled.append(f"{quote(column.table.name)}.{quote(column.name)}")
            else:
                spelled.append(quote(column.name))
        return ", ".join(spelled)


def enum_lookup(enum_type: type[enum.Enum]) -> Callable[[Any], Any]:
    """`enum_type(value)` through a dict: the enum call is the slow path, kept for unknown values."""
    members = {member.value: member for member in enum_type}

    def convert(value: Any) -> Any:
        member = members.get(value)
        return member if member is not None else enum_type(value)

    return convert


def _require_identifier(name: str) -> str:
    if not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"{name!r} cannot name a value of a compiled row function")
    return name


def _hints(domain: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(domain)


def _enum_of(hint: Any) -> type[enum.Enum] | None:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and any(
        isinstance(arg, type) and issubclass(arg, enum.Enum) for arg in typing.get_args(hint)
    ):
        raise TypeError(f"an optional enum ({hint}) needs an explicit source")
    return None


def _is_tuple(hint: Any) -> bool:
    return typing.get_origin(hint) is tuple


class _Code:
    """Names of the values a compiled function refers to."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {}

    def ref(self, value: Any) -> str:
        name = f"_v{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def call(self, function: Callable[..., Any] | None, *arguments: str) -> str:
        if function is None:
            return arguments[0]
        return f"{self.ref(function)}({', '.join(arguments)})"

    def compile(self, source: str, name: str) -> Any:
        # Only identifiers checked as such and fixed code are compiled; values come from the namespace.
        exec(compile(source, f"<{name}>", "exec"), self.namespace)  # noqa: S102
        return self.namespace[name]


def _compile_writer(mapping: RowMapping[Any], dialect: DriverDialect) -> Callable[..., tuple[Any, ...]]:
    code = _Code()
    hints = _hints(mapping.domain)
    values = []
    for column in mapping.write_columns:
        convert = dialect.to_driver(column)
        source = mapping.write.get(column.name)
        if isinstance(source, Const):
            values.append(code.ref(source.value if convert is None else convert(source.value)))
            continue
        if isinstance(source, Param):
            if source.name not in mapping.write_params:
                raise ValueError(f"{source.name!r} is not one of {mapping.write_params}")
            value = source.name
        elif isinstance(source, FromObject):
            value = code.call(source.function, "obj")
        elif column.name in hints:
            value = f"obj.{_require_identifier(column.name)}"
            if _enum_of(hints[column.name]) is not None:
                value += ".value"
        else:
            raise ValueError(f"{mapping.table.name}.{column.name} has no field in {mapping.domain.__name__}")
        values.append(code.call(convert, value))
    params = "".join(f", {name}" for name in mapping.write_params)
    text = f"def row(obj{params}):\n    return ({', '.join(values)},)\n"
    writer: Callable[..., tuple[Any, ...]] = code.compile(text, "row")
    return writer


def _field_value(code: _Code, hint: Any, value: str) -> str:
    """A column's value as the domain field's type wants it (enum member, tuple)."""
    found = _enum_of(hint)
    if found is not None:
        return code.call(enum_lookup(found), value)
    if _is_tuple(hint):
        return f"tuple({value})"
    return value


def _compile_reader(
    mapping: RowMapping[T], dialect: DriverDialect, columns: Sequence[Column[Any]]
) -> Callable[..., list[T]]:
    code = _Code()
    hints = _hints(mapping.domain)
    local = {(c.table.name, c.name): f"c{i}" for i, c in enumerate(columns)}

    def column_value(column: Column[Any]) -> str:
        return code.call(dialect.from_driver(column), local[(column.table.name, column.name)])

    arguments = []
    for field, source in mapping.field_sources():
        if isinstance(source, Param):
            value = _require_identifier(source.name)
        elif isinstance(source, FromColumns):
            value = code.call(source.function, *(column_value(mapping.table.c[n]) for n in source.columns))
        elif isinstance(source, Joined):
            value = _field_value(code, hints[field], column_value(source.column))
        else:
            value = _field_value(code, hints[field], column_value(source))
        arguments.append(f"{_require_identifier(field)}={value}")
    params = "".join(f", {name}" for name in mapping.read_params)
    unpacked = ", ".join(local.values())
    text = (
        f"def build(rows{params}):\n"
        f"    return [{code.ref(mapping.domain)}({', '.join(arguments)}) for ({unpacked},) in rows]\n"
    )
    reader: Callable[..., list[T]] = code.compile(text, "build")
    return reader


def _compile_orm_reader(mapping: RowMapping[T]) -> Callable[..., T]:
    code = _Code()
    hints = _hints(mapping.domain)
    arguments = []
    for field, source in mapping.field_sources():
        if isinstance(source, Param):
            value = _require_identifier(source.name)
        elif isinstance(source, FromColumns):
            value = code.call(source.function, *(f"row.{_require_identifier(n)}" for n in source.columns))
        elif isinstance(source, Joined):
            raise ValueError("an ORM row has no joined columns")
        else:
            value = _field_value(code, hints[field], f"row.{_require_identifier(source.name)}")
        arguments.append(f"{_require_identifier(field)}={value}")
    params = "".join(f", {name}" for name in mapping.read_params)
    text = f"def read(row{params}):\n    return {code.ref(mapping.domain)}({', '.join(arguments)})\n"
    reader: Callable[..., T] = code.compile(text, "read")
    return reader
