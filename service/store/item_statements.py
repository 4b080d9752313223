"""The sync path's driver-level writes of work items, people, milestone links and changes.

Each statement and its row function are built once per dialect from the tables (`mapping`,
`driver_rows`): a row is a tuple of the table's columns in table order, already in the driver's form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.domain.enums import Visibility
from service.store.dialect import table_of
from service.store.driver_dialect import DriverDialect, driver_dialect
from service.store.driver_rows import RowMapping
from service.store.driver_sql import DriverInsert
from service.store.mapping import CHANGES, MILESTONES, PERSONS, WORK_ITEMS
from service.store.orm import ItemMilestoneRow

# The columns a row is found by on conflict; every other written column is refreshed.
_CONFLICT = ("source_id", "external_id")
_VISIBLE = Visibility.VISIBLE.value
# The guards repeat the checks of `items._wanted` in SQL so a concurrent writer never
# regresses a row. A listing restores an item marked deleted or hidden; a pushed payload only when
# it is newer than the change of visibility.
LISTED_GUARD = (
    f"(work_items.visibility = '{_VISIBLE}' AND work_items.updated_at < excluded.updated_at) "
    f"OR work_items.visibility <> '{_VISIBLE}'"
)
PUSHED_GUARD = (
    "work_items.updated_at < excluded.updated_at AND "
    f"(work_items.visibility = '{_VISIBLE}' OR work_items.visibility_changed_at < excluded.updated_at)"
)


Row = Callable[..., tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class ItemStatements:
    values: DriverDialect
    persons: DriverInsert
    milestones: DriverInsert
    listed_items: DriverInsert
    pushed_items: DriverInsert
    links: DriverInsert
    changes: DriverInsert
    # Row functions, in the statements' column order: `item_row(item, project_id)`,
    # `milestone_row(milestone, project_id)`, `person_row(person, source_id)`,
    # `change_row(change, source_id, item_id)`.
    item_row: Row
    milestone_row: Row
    person_row: Row
    change_row: Row


def _upsert(dialect: DriverDialect, mapping: RowMapping[Any], where: str | None = None) -> DriverInsert:
    columns = mapping.write_names
    return DriverInsert(
        dialect,
        mapping.table,
        columns,
        conflict=_CONFLICT,
        update=[c for c in columns if c not in _CONFLICT],
        where=where,
    )


@functools.cache
def item_statements(dialect_name: str) -> ItemStatements:
    dialect = driver_dialect(dialect_name)
    return ItemStatements(
        values=dialect,
        persons=_upsert(dialect, PERSONS),
        milestones=_upsert(dialect, MILESTONES),
        listed_items=_upsert(dialect, WORK_ITEMS, LISTED_GUARD),
        pushed_items=_upsert(dialect, WORK_ITEMS, PUSHED_GUARD),
        links=DriverInsert(dialect, table_of(ItemMilestoneRow)),
        changes=DriverInsert(dialect, CHANGES.table, CHANGES.write_names, conflict=_CONFLICT),
        item_row=WORK_ITEMS.writer(dialect),
        milestone_row=MILESTONES.writer(dialect),
        person_row=PERSONS.writer(dialect),
        change_row=CHANGES.writer(dialect),
    )
