"""Rows to domain objects and back. The store hands the rest of the service domain types, never ORM rows.

Each `RowMapping` pairs a table with its domain class: a column and a field of the same name carry
the same value, so only what differs is spelled out here, once, for the ORM reads, the driver-level
reads (`work_scan`) and the bulk writes (`item_statements`) alike (see `driver_rows`).
"""

from __future__ import annotations

from typing import Any

from service.domain.work import Change, Milestone, Person, Project, WorkItem, Worklog
from service.store.dialect import table_of
from service.store.driver_rows import Const, FromColumns, FromObject, Joined, Param, RowMapping
from service.store.orm import ChangeRow, MilestoneRow, PersonRow, ProjectRow, WorkItemRow, WorklogRow


def _assignee_external_id(item: WorkItem) -> str | None:
    assignee = item.assignee
    return assignee.external_id if assignee else None


def _assignee_name(item: WorkItem) -> str | None:
    assignee = item.assignee
    return assignee.display_name if assignee else None


def _assignee(external_id: str | None, name: str | None) -> Person | None:
    return Person(external_id=external_id, display_name=name or "") if external_id else None


def _payload(raw: Any) -> Any:
    # A read may leave the payload out (NULL in its place): the item then carries an empty one.
    return raw if raw is not None else {}


WORK_ITEMS: RowMapping[WorkItem] = RowMapping(
    table_of(WorkItemRow),
    WorkItem,
    write={
        "project_id": Param("project_id"),
        "assignee_external_id": FromObject(_assignee_external_id),
        "assignee_name": FromObject(_assignee_name),
        # A write restores visibility.
        "visibility_changed_at": Const(None),
    },
    write_params=("project_id",),
    read={
        "project_external_id": Param("project_external_id"),
        "assignee": FromColumns(_assignee, ("assignee_external_id", "assignee_name")),
        "raw": FromColumns(_payload, ("raw",)),
    },
    read_params=("project_external_id",),
)
MILESTONES: RowMapping[Milestone] = RowMapping(
    table_of(MilestoneRow),
    Milestone,
    write={"project_id": Param("project_id")},
    write_params=("project_id",),
    read={"project_external_id": Param("project_external_id")},
    read_params=("project_external_id",),
)
CHANGES: RowMapping[Change] = RowMapping(
    table_of(ChangeRow),
    Change,
    write={"source_id": Param("source_id"), "item_id": Param("item_id")},
    write_params=("source_id", "item_id"),
    read={"item_external_id": Joined(table_of(WorkItemRow).c.external_id)},
)
WORKLOGS: RowMapping[Worklog] = RowMapping(
    table_of(WorklogRow),
    Worklog,
    write={"source_id": Param("source_id"), "item_id": Param("item_id")},
    write_params=("source_id", "item_id"),
    read={"item_external_id": Joined(table_of(WorkItemRow).c.external_id)},
)
PERSONS: RowMapping[Person] = RowMapping(
    table_of(PersonRow), Person, write={"source_id": Param("source_id")}, write_params=("source_id",)
)
PROJECTS: RowMapping[Project] = RowMapping(table_of(ProjectRow), Project)


def work_item_from_row(row: WorkItemRow, *, project_external_id: str) -> WorkItem:
    return _work_item_from_row(row, project_external_id)


_work_item_from_row = WORK_ITEMS.orm_reader()
