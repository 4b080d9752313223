"""The sync path's driver-level writes of work items, people, milestone links and changes.

Rows are tuples in column order, already in the driver's form (see `driver_sql`); each statement is
built once per dialect.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from service.domain.enums import Visibility
from service.domain.work import JsonText, Milestone, WorkItem
from service.store.driver_sql import DriverInsert, DriverValues, driver_values

ITEM_COLUMNS = (
    "source_id",
    "project_id",
    "external_id",
    "key",
    "title",
    "kind",
    "status",
    "status_category",
    "priority",
    "assignee_external_id",
    "assignee_name",
    "labels",
    "components",
    "parent_external_id",
    "milestone_external_ids",
    "due_date",
    "start_date",
    "created_at",
    "updated_at",
    "resolved_at",
    "estimate_seconds",
    "spent_seconds",
    "story_points",
    "blocked",
    "url",
    "visibility",
    "visibility_changed_at",
    "raw",
)
ITEM_JSON_COLUMNS = frozenset({"labels", "components", "milestone_external_ids", "raw"})
MILESTONE_COLUMNS = (
    "source_id",
    "project_id",
    "external_id",
    "name",
    "kind",
    "start_date",
    "due_date",
    "released",
    "completed_at",
)
CHANGE_COLUMNS = (
    "source_id",
    "item_id",
    "external_id",
    "field",
    "from_value",
    "to_value",
    "from_display",
    "to_display",
    "author",
    "changed_at",
)
_KEY_COLUMNS = frozenset({"id", "source_id", "external_id"})
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


@dataclass(frozen=True, slots=True)
class ItemStatements:
    values: DriverValues
    persons: DriverInsert
    milestones: DriverInsert
    listed_items: DriverInsert
    pushed_items: DriverInsert
    links: DriverInsert
    changes: DriverInsert


@functools.cache
def item_statements(dialect: str) -> ItemStatements:
    def items(guard: str) -> DriverInsert:
        return DriverInsert(
            dialect,
            "work_items",
            ITEM_COLUMNS,
            conflict=("source_id", "external_id"),
            update=[c for c in ITEM_COLUMNS if c not in _KEY_COLUMNS],
            where=guard,
            json_columns=ITEM_JSON_COLUMNS,
        )

    return ItemStatements(
        values=driver_values(dialect),
        persons=DriverInsert(
            dialect,
            "persons",
            ("source_id", "external_id", "display_name", "email"),
            conflict=("source_id", "external_id"),
            update=("display_name", "email"),
        ),
        milestones=DriverInsert(
            dialect,
            "milestones",
            MILESTONE_COLUMNS,
            conflict=("source_id", "external_id"),
            update=[c for c in MILESTONE_COLUMNS if c not in _KEY_COLUMNS],
        ),
        listed_items=items(LISTED_GUARD),
        pushed_items=items(PUSHED_GUARD),
        links=DriverInsert(dialect, "item_milestones", ("item_id", "milestone_id")),
        changes=DriverInsert(dialect, "changes", CHANGE_COLUMNS, conflict=("source_id", "external_id")),
    )


def milestone_row(milestone: Milestone, project_id: int, values: DriverValues) -> tuple[Any, ...]:
    """One milestones row in `MILESTONE_COLUMNS` order."""
    return (
        milestone.source_id,
        project_id,
        milestone.external_id,
        milestone.name,
        milestone.kind.value,
        values.date(milestone.start_date),
        values.date(milestone.due_date),
        milestone.released,
        values.datetime(milestone.completed_at),
    )


def item_row(item: WorkItem, project_id: int, values: DriverValues) -> tuple[Any, ...]:
    """One work_items row in `ITEM_COLUMNS` order; a write restores visibility."""
    assignee = item.assignee
    moment, day, json = values.datetime, values.date, values.json
    return (
        item.source_id,
        project_id,
        item.external_id,
        item.key,
        item.title,
        item.kind.value,
        item.status,
        item.status_category.value,
        item.priority.value,
        assignee.external_id if assignee else None,
        assignee.display_name if assignee else None,
        json(item.labels),
        json(item.components),
        item.parent_external_id,
        json(item.milestone_external_ids),
        day(item.due_date),
        day(item.start_date),
        moment(item.created_at),
        moment(item.updated_at),
        moment(item.resolved_at),
        item.estimate_seconds,
        item.spent_seconds,
        item.story_points,
        item.blocked,
        item.url,
        item.visibility.value,
        None,
        str(raw) if type(raw := item.raw) is JsonText else json(raw),
    )
