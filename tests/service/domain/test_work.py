from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from service.domain.enums import ItemKind, Priority, StatusCategory, Visibility
from service.domain.work import (
    WorkItem,
    priority_from_name,
    status_category_from_jira,
    status_category_from_list_name,
)

T = datetime(2026, 11, 1, tzinfo=UTC)


def item(**overrides: object) -> WorkItem:
    values: dict[str, object] = {
        "source_id": 1,
        "project_external_id": "P",
        "external_id": "1",
        "key": "P-1",
        "title": "t",
        "kind": ItemKind.TASK,
        "status": "In Progress",
        "status_category": StatusCategory.IN_PROGRESS,
        "created_at": T,
        "updated_at": T,
        "due_date": date(2026, 11, 10),
    }
    values.update(overrides)
    return WorkItem(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("new", StatusCategory.TODO),
        ("indeterminate", StatusCategory.IN_PROGRESS),
        ("done", StatusCategory.DONE),
        ("undefined", StatusCategory.TODO),
        ("DONE", StatusCategory.DONE),
    ],
    ids=["new", "indeterminate", "done", "undefined", "uppercase"],
)
def test_status_category_from_jira_maps_category_keys(key: str, expected: StatusCategory) -> None:
    assert status_category_from_jira(key) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Backlog", StatusCategory.TODO),
        ("To Do", StatusCategory.TODO),
        ("Doing", StatusCategory.IN_PROGRESS),
        ("In Review", StatusCategory.IN_PROGRESS),
        ("Done ✅", StatusCategory.DONE),
        ("Shipped to prod", StatusCategory.DONE),
    ],
    ids=["backlog", "todo", "doing", "review", "done-emoji", "shipped"],
)
def test_status_category_from_list_name_defaults(name: str, expected: StatusCategory) -> None:
    assert status_category_from_list_name(name) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Highest", Priority.HIGHEST),
        ("Blocker", Priority.HIGHEST),
        ("Major", Priority.HIGH),
        ("Medium", Priority.MEDIUM),
        ("Trivial", Priority.LOWEST),
        (None, Priority.NONE),
        ("P9", Priority.NONE),
    ],
    ids=["highest", "blocker", "major", "medium", "trivial", "missing", "unknown"],
)
def test_priority_from_name_maps_jira_names(name: str | None, expected: Priority) -> None:
    assert priority_from_name(name) is expected


@pytest.mark.parametrize(
    ("overrides", "today", "expected"),
    [
        ({}, date(2026, 11, 13), 3),
        ({}, date(2026, 11, 10), 0),
        ({}, date(2026, 11, 1), 0),
        ({"status_category": StatusCategory.DONE}, date(2026, 11, 13), 0),
        ({"due_date": None}, date(2026, 11, 13), 0),
        ({"visibility": Visibility.DELETED}, date(2026, 11, 13), 0),
    ],
    ids=["late", "due-today", "early", "done", "no-date", "deleted"],
)
def test_work_item_days_overdue(overrides: dict[str, object], today: date, expected: int) -> None:
    assert item(**overrides).days_overdue(today) == expected
