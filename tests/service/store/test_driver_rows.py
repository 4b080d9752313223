"""The fast path's columns and conversions come from the table definitions: every driver-level statement
names its table's columns in table order, and a column's conversion follows from its type alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite

from service.domain.enums import ItemKind
from service.domain.work import JsonText
from service.store.base import JSONDocument, UTCDateTime
from service.store.dialect import table_of
from service.store.driver_dialect import ColumnKind, column_kind, driver_dialect
from service.store.driver_rows import Const, FromColumns, Param, RowMapping
from service.store.driver_sql import DriverInsert
from service.store.inbox import InboxInsert
from service.store.item_statements import item_statements
from service.store.mapping import CHANGES, MILESTONES, PERSONS, PROJECTS, WORK_ITEMS
from service.store.orm import ChangeRow, ItemMilestoneRow, MilestoneRow, PersonRow, WorkItemRow
from service.store.work_scan import _READS

DIALECTS = ("sqlite", "postgresql")
AT = datetime(2026, 10, 1, 14, 30, 5, 120000, tzinfo=timezone(timedelta(hours=2)))


def _all_but_id(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.name != "id"]


def _inserted_columns(sql: str) -> list[str]:
    found = re.match(r"INSERT INTO \S+ \(([^)]*)\)", sql)
    assert found is not None, sql
    return [name.strip().strip('"') for name in found.group(1).split(",")]


def _selected_columns(sql: str) -> list[str]:
    found = re.match(r"SELECT (.*?) FROM ", sql)
    assert found is not None, sql
    return [name.strip().replace('"', "") for name in found.group(1).split(",")]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_write_names_its_tables_columns_in_table_order(dialect: str) -> None:
    statements = item_statements(dialect)
    expected = {
        "listed_items": _all_but_id(table_of(WorkItemRow)),
        "pushed_items": _all_but_id(table_of(WorkItemRow)),
        "milestones": _all_but_id(table_of(MilestoneRow)),
        "persons": _all_but_id(table_of(PersonRow)),
        "changes": _all_but_id(table_of(ChangeRow)),
        "links": [c.name for c in table_of(ItemMilestoneRow).columns],
    }
    for name, columns in expected.items():
        insert: DriverInsert = getattr(statements, name)
        assert _inserted_columns(insert.sql) == columns, name
        assert list(insert.columns) == columns, name
        assert insert.sql.count(driver_dialect(dialect).mark) == len(columns), name

    sqlalchemy_dialect = postgresql.psycopg.dialect() if dialect == "postgresql" else sqlite.dialect()  # type: ignore[no-untyped-call]
    intake = InboxInsert(sqlalchemy_dialect)
    assert _inserted_columns(intake.sql) == [
        "source_id",
        "delivery_id",
        "event_type",
        "body",
        "received_at",
        "status",
        "attempts",
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_read_selects_its_tables_columns_in_table_order(dialect: str) -> None:
    reads = _READS[dialect]
    items = [c.name for c in table_of(WorkItemRow).columns]
    assert _selected_columns(reads.items_sql) == items
    assert _selected_columns(reads.items_sql_without_raw) == [*items[:-1], "NULL"]
    assert _selected_columns(reads.milestones_sql) == [c.name for c in table_of(MilestoneRow).columns]
    assert _selected_columns(reads.change_sql(3)) == [
        *(f"changes.{c.name}" for c in table_of(ChangeRow).columns),
        "work_items.external_id",
    ]
    assert _selected_columns(reads.project_sql) == [c.name for c in PROJECTS.table.columns]


@pytest.mark.parametrize("mapping", [WORK_ITEMS, MILESTONES, CHANGES, PERSONS], ids=lambda m: m.table.name)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_written_value_is_converted_as_its_column_type_says(
    mapping: RowMapping[Any], dialect: str
) -> None:
    """Every written column of a UTCDateTime, Date or JSON type, and only those, is converted by
    the dialect's conversion of that type."""
    driver = driver_dialect(dialect)
    expected = {
        ColumnKind.DATETIME: driver.datetime,
        ColumnKind.DATE: None if dialect == "postgresql" else driver.date,
        ColumnKind.JSON: driver.json,
    }
    for column in mapping.write_columns:
        assert driver.to_driver(column) is expected.get(column_kind(column)), column.name


# A table and a domain class the store has never seen: what the fast path does with them follows
# from the column types and the field names alone.
_PROBES = Table(
    "probes",
    MetaData(),
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("owner_id", Integer),
    Column("name", String(20)),
    Column("kind", String(16)),
    Column("at", UTCDateTime()),
    Column("day", Date),
    Column("doc", JSONDocument),
    Column("tags", JSONDocument),
    Column("flag", Boolean),
    Column("note", String(20)),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Probe:
    id: int | None = None
    name: str
    kind: ItemKind
    at: datetime | None
    day: date | None
    doc: dict[str, Any] | JsonText
    tags: tuple[str, ...]
    flag: bool
    owner: str


_PROBE_ROWS: RowMapping[_Probe] = RowMapping(
    _PROBES,
    _Probe,
    write={"owner_id": Param("owner_id"), "note": Const("fixed")},
    write_params=("owner_id",),
    read={"owner": FromColumns(lambda owner_id: f"#{owner_id}", ("owner_id",))},
)
_PROBE = _Probe(
    name="p",
    kind=ItemKind.BUG,
    at=AT,
    day=date(2026, 11, 15),
    doc={"a": [1, None]},
    tags=("x", "y"),
    flag=True,
    owner="#7",
)


def test_a_new_tables_row_is_converted_by_its_column_types() -> None:
    assert _PROBE_ROWS.write_names == ("owner_id", "name", "kind", "at", "day", "doc", "tags", "flag", "note")
    assert _PROBE_ROWS.writer(driver_dialect("sqlite"))(_PROBE, 7) == (
        7,
        "p",
        "bug",
        "2026-10-01 12:30:05.120000",
        "2026-11-15",
        '{"a":[1,null]}',
        '["x","y"]',
        True,
        "fixed",
    )
    assert _PROBE_ROWS.writer(driver_dialect("postgresql"))(_PROBE, 7) == (
        7,
        "p",
        "bug",
        AT.astimezone(UTC),
        date(2026, 11, 15),
        '{"a":[1,null]}',
        '["x","y"]',
        True,
        "fixed",
    )
    kept = _PROBE_ROWS.writer(driver_dialect("sqlite"))(
        _Probe(**{**_probe_fields(), "doc": JsonText('{"a": [1, null]}'), "at": None}), 7
    )
    assert kept[3] is None
    assert kept[5] == '{"a": [1, null]}'


def _probe_fields() -> dict[str, Any]:
    return {name: getattr(_PROBE, name) for name in _Probe.__dataclass_fields__}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_new_tables_rows_read_back_as_its_column_types_convert_them(dialect: str) -> None:
    driver = driver_dialect(dialect)
    reader = _PROBE_ROWS.reader(driver)
    if dialect == "sqlite":
        stored: tuple[Any, ...] = (
            3,
            7,
            "p",
            "bug",
            "2026-10-01 12:30:05.120000",
            "2026-11-15",
            '{"a":[1,null]}',
            '["x","y"]',
            1,
            "fixed",
        )
    else:
        stored = (3, 7, "p", "bug", AT, date(2026, 11, 15), {"a": [1, None]}, ["x", "y"], True, "fixed")

    (read,) = reader.build([stored])

    assert read == _Probe(**{**_probe_fields(), "id": 3})
    assert read.at is not None and read.at.tzinfo is UTC
    assert reader.position("at") == 4


def test_a_column_without_a_field_is_refused() -> None:
    unmapped = RowMapping(_PROBES, _Probe)
    with pytest.raises(ValueError, match="owner_id has no field"):
        unmapped.writer(driver_dialect("sqlite"))
    with pytest.raises(ValueError, match="owner has no column"):
        unmapped.reader(driver_dialect("sqlite"))
