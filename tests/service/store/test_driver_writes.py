"""Driver-level bulk writes store exactly what SQLAlchemy's own statements store, on both dialects."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import exc, insert, select, text
from sqlalchemy.orm import Session

from service.domain.enums import ItemKind, MilestoneKind, Priority, StatusCategory
from service.domain.work import Change, JsonText, Milestone, Person, Project, WorkItem
from service.store.dialect import table_of
from service.store.driver_sql import DriverInsert
from service.store.items import upsert_milestones, upsert_projects, upsert_work_items
from service.store.mapping import WORK_ITEMS
from service.store.orm import ChangeRow, ItemMilestoneRow, MilestoneRow, WorkItemRow
from service.store.work_reads import get_work_item

# Not UTC on purpose: both paths must store the same UTC instant.
T0 = datetime(2026, 10, 1, 14, 30, 5, 120000, tzinfo=timezone(timedelta(hours=2)))


@pytest.fixture
def project_id(session: Session, source_id: int) -> int:
    ids = upsert_projects(
        session, projects=[Project(source_id=source_id, external_id="10000", key="ACME", name="Acme")]
    )
    return ids["10000"]


def _item(source_id: int, external_id: str, **changes: Any) -> WorkItem:
    item = WorkItem(
        source_id=source_id,
        project_external_id="10000",
        external_id=external_id,
        key=f"ACME-{external_id}",
        title='Ünïcode "quoted" title',
        kind=ItemKind.BUG,
        status="In Review",
        status_category=StatusCategory.IN_PROGRESS,
        priority=Priority.HIGH,
        assignee=Person(external_id="acc-1", display_name="Dana", email=None),
        labels=("a", "b"),
        components=("api",),
        parent_external_id="20000",
        milestone_external_ids=("version:1",),
        due_date=date(2026, 11, 15),
        start_date=date(2026, 10, 2),
        created_at=T0 - timedelta(days=3),
        updated_at=T0,
        resolved_at=T0 + timedelta(hours=1),
        estimate_seconds=7200,
        spent_seconds=10**12,
        story_points=2.5,
        blocked=True,
        url="https://acme.atlassian.net/browse/ACME-1",
        raw={"key": "ACME-1", "fields": {"summary": "Ünïcode", "n": [1, 2.5, None, True]}},
    )
    return replace(item, **changes)


def _stored(session: Session, table: str, external_id: str) -> tuple[Any, ...]:
    """The row as the driver returns it (SQLite text, PostgreSQL typed values), minus the keys."""
    row = session.execute(
        text(f"SELECT * FROM {table} WHERE external_id = :external_id"),  # noqa: S608
        {"external_id": external_id},
    ).one()
    mapping = dict(row._mapping)
    for key in ("id", "external_id", "key", "item_id"):
        mapping.pop(key, None)
    return tuple(sorted(mapping.items()))


def test_a_work_item_row_matches_what_sqlalchemy_stores(
    session: Session, source_id: int, project_id: int
) -> None:
    upsert_work_items(session, source_id=source_id, items=[_item(source_id, "1")])
    reference = _item(source_id, "2")
    values = {
        "source_id": source_id,
        "project_id": project_id,
        "external_id": "2",
        "key": "ACME-1",
        "title": reference.title,
        "kind": reference.kind.value,
        "status": reference.status,
        "status_category": reference.status_category.value,
        "priority": reference.priority.value,
        "assignee_external_id": "acc-1",
        "assignee_name": "Dana",
        "labels": list(reference.labels),
        "components": list(reference.components),
        "parent_external_id": reference.parent_external_id,
        "milestone_external_ids": list(reference.milestone_external_ids),
        "due_date": reference.due_date,
        "start_date": reference.start_date,
        "created_at": reference.created_at,
        "updated_at": reference.updated_at,
        "resolved_at": reference.resolved_at,
        "estimate_seconds": reference.estimate_seconds,
        "spent_seconds": reference.spent_seconds,
        "story_points": reference.story_points,
        "blocked": reference.blocked,
        "url": reference.url,
        "visibility": "visible",
        "visibility_changed_at": None,
        "raw": reference.raw,
    }
    assert set(values) == set(WORK_ITEMS.write_names)
    session.execute(insert(WorkItemRow), [values])

    assert _stored(session, "work_items", "1") == _stored(session, "work_items", "2")
    read = get_work_item(session, source_id=source_id, external_id="1")
    assert read.updated_at == T0
    assert read.raw == reference.raw
    assert read.labels == ("a", "b")


def test_a_change_row_matches_what_sqlalchemy_stores(
    session: Session, source_id: int, project_id: int
) -> None:
    upsert_work_items(session, source_id=source_id, items=[_item(source_id, "1")])
    change = Change(
        source_id=source_id,
        item_external_id="1",
        external_id="h1:0",
        field="duedate",
        from_value=None,
        to_value="2026-11-15",
        from_display=None,
        to_display="15/Nov/26",
        author="Dana",
        changed_at=T0,
    )
    upsert_work_items(session, source_id=source_id, items=[], changes=[change])
    item_id = session.scalar(select(WorkItemRow.id).where(WorkItemRow.external_id == "1"))
    session.execute(
        insert(ChangeRow),
        [
            {
                "source_id": source_id,
                "item_id": item_id,
                "external_id": "h2:0",
                "field": "duedate",
                "from_value": None,
                "to_value": "2026-11-15",
                "from_display": None,
                "to_display": "15/Nov/26",
                "author": "Dana",
                "changed_at": T0,
            }
        ],
    )

    assert _stored(session, "changes", "h1:0") == _stored(session, "changes", "h2:0")


def test_a_milestone_row_matches_what_sqlalchemy_stores(
    session: Session, source_id: int, project_id: int
) -> None:
    milestone = Milestone(
        source_id=source_id,
        project_external_id="10000",
        external_id="sprint:7",
        name='Sprint "7" - Ünïcode',
        kind=MilestoneKind.SPRINT,
        start_date=date(2026, 10, 1),
        due_date=date(2026, 10, 14),
        released=True,
        completed_at=T0,
    )
    upsert_milestones(session, source_id=source_id, milestones=[milestone])
    session.execute(
        insert(MilestoneRow),
        [
            {
                "source_id": source_id,
                "project_id": project_id,
                "external_id": "sprint:8",
                "name": milestone.name,
                "kind": "sprint",
                "start_date": milestone.start_date,
                "due_date": milestone.due_date,
                "released": True,
                "completed_at": T0,
            }
        ],
    )

    assert _stored(session, "milestones", "sprint:7") == _stored(session, "milestones", "sprint:8")
    # A second write refreshes what changed and keeps the row.
    upsert_milestones(
        session, source_id=source_id, milestones=[replace(milestone, name="Renamed", released=False)]
    )
    stored = session.execute(
        select(MilestoneRow.name, MilestoneRow.released).where(MilestoneRow.external_id == "sprint:7")
    ).all()
    assert stored == [("Renamed", False)]


def test_a_payload_kept_as_text_is_stored_as_that_text(
    session: Session, source_id: int, project_id: int
) -> None:
    payload = {"key": "ACME-1", "fields": {"summary": "Ünïcode", "n": [1, 2.5, None, True]}}
    text = JsonText('{"key": "ACME-1", "fields": {"summary": "Ünïcode", "n": [1, 2.5, null, true]}}')
    upsert_work_items(
        session,
        source_id=source_id,
        items=[_item(source_id, "1", raw=payload), _item(source_id, "2", raw=text)],
    )

    assert get_work_item(session, source_id=source_id, external_id="2").raw == payload
    assert get_work_item(session, source_id=source_id, external_id="1").raw == payload


def test_naive_datetimes_are_refused(session: Session, source_id: int, project_id: int) -> None:
    with pytest.raises(ValueError, match="naive"):
        upsert_work_items(
            session, source_id=source_id, items=[_item(source_id, "1", updated_at=datetime(2026, 1, 1))]
        )


def test_a_failed_driver_statement_raises_sqlalchemys_error(session: Session, source_id: int) -> None:
    dialect = session.get_bind().dialect.name
    links = DriverInsert(dialect, table_of(ItemMilestoneRow))

    with pytest.raises(exc.IntegrityError):
        links.run(session, [(987654, 987654)])
