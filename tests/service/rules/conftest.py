from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from service.domain.enums import ActivityKind, ItemKind, MilestoneKind, Priority, StatusCategory
from service.domain.work import Activity, Change, Milestone, Person, Project, WorkItem

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday

MakeItem = Callable[..., WorkItem]
MakeChange = Callable[..., Change]
MakeActivity = Callable[..., Activity]
MakeMilestone = Callable[..., Milestone]


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def day() -> Callable[[int], datetime]:
    """The instant `n` days after T0."""
    return lambda n: T0 + timedelta(days=n)


@pytest.fixture
def make_item() -> MakeItem:
    def make(**overrides: Any) -> WorkItem:
        values: dict[str, Any] = {
            "id": 1,
            "source_id": 1,
            "project_external_id": "P",
            "external_id": "10001",
            "key": "P-1",
            "title": "Checkout page",
            "kind": ItemKind.STORY,
            "status": "In Progress",
            "status_category": StatusCategory.IN_PROGRESS,
            "priority": Priority.MEDIUM,
            "assignee": Person(external_id="u1", display_name="Ann"),
            "created_at": T0,
            "updated_at": T0,
            "due_date": date(2026, 3, 20),
        }
        values.update(overrides)
        return WorkItem(**values)

    return make


@pytest.fixture
def make_change() -> MakeChange:
    counter = iter(range(1, 10_000))

    def make(field: str, at: datetime, *, item: str = "10001", **values: Any) -> Change:
        return Change(
            source_id=1,
            item_external_id=item,
            external_id=values.pop("external_id", f"{next(counter)}:0"),
            field=field,
            changed_at=at,
            author=values.pop("author", "pm"),
            **values,
        )

    return make


@pytest.fixture
def make_activity() -> MakeActivity:
    """A comment (by default) on item 10001 made at `at`, edited at `edited` when given."""
    counter = iter(range(1, 10_000))

    def make(
        at: datetime,
        *,
        edited: datetime | None = None,
        item: str = "10001",
        kind: ActivityKind = ActivityKind.COMMENT,
    ) -> Activity:
        return Activity(
            source_id=1,
            item_external_id=item,
            external_id=f"a{next(counter)}",
            kind=kind,
            author="Ann",
            created_at=at,
            updated_at=edited or at,
        )

    return make


@pytest.fixture
def make_milestone() -> MakeMilestone:
    def make(**overrides: Any) -> Milestone:
        values: dict[str, Any] = {
            "id": 7,
            "source_id": 1,
            "project_external_id": "P",
            "external_id": "v1",
            "name": "Release 1",
            "kind": MilestoneKind.VERSION,
            "due_date": date(2026, 4, 1),
        }
        values.update(overrides)
        return Milestone(**values)

    return make


@pytest.fixture
def project() -> Project:
    return Project(id=3, source_id=1, external_id="P", key="P", name="Portal")
