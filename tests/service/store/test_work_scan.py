"""The driver-cursor reads of a project's items, changes and milestones give exactly what the ORM
reads gave: the same domain objects, in the same order, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from service.domain.enums import ItemKind, MilestoneKind, Priority, StatusCategory, Visibility
from service.domain.work import Change, Milestone, Person, Project, WorkItem
from service.flags.facts import load_project_snapshot
from service.store import work_scan
from service.store.base import UTCDateTime
from service.store.driver_dialect import driver_dialect
from service.store.items import mark_items_visibility, upsert_milestones, upsert_projects, upsert_work_items
from service.store.orm import ProjectRow, SourceRow, WorkItemRow
from service.store.work_reads import list_item_changes, list_project_items, list_project_milestones
from service.store.work_scan import (
    read_item_changes,
    read_project,
    read_project_items,
    read_project_milestones,
    read_source_synced_at,
)
from tests.service.store.orm_reads import (
    orm_item_changes,
    orm_project,
    orm_project_items,
    orm_project_milestones,
    orm_snapshot,
)

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
STATUSES = (
    ("To Do", StatusCategory.TODO),
    ("In Progress", StatusCategory.IN_PROGRESS),
    ("In Review", StatusCategory.IN_PROGRESS),
    ("Blocked", StatusCategory.IN_PROGRESS),
    ("Done", StatusCategory.DONE),
)
MILESTONES = ("v1", "v2", "s1", "s2", "s3")


def _project_id(session: Session, external_id: str) -> int:
    row = session.query(ProjectRow).filter_by(external_id=external_id).one()
    return row.id


def _item(rng: random.Random, source_id: int, project: str, n: int) -> WorkItem:
    status, category = rng.choice(STATUSES)
    created = T0 + timedelta(
        days=rng.randint(0, 40),
        seconds=rng.randint(0, 86_399),
        microseconds=rng.choice((0, 1, 999_999, rng.randint(0, 999_999))),
    )
    assignee = rng.choice(
        (
            None,
            Person(external_id="acc-1", display_name="Dana"),
            Person(external_id="acc-2", display_name="Zoë Ångström"),
        )
    )
    return WorkItem(
        source_id=source_id,
        project_external_id=project,
        external_id=f"{project}-{n}",
        key=f"K{project[-1]}-{n}",
        title=rng.choice(("Plain", "Ünïcode — “quoted” 🚀", "x" * 300, "")),
        kind=rng.choice(list(ItemKind)),
        status=status,
        status_category=category,
        priority=rng.choice(list(Priority)),
        assignee=assignee,
        labels=tuple(rng.sample(("blocked", "client-visible", "quick-win", "ü"), rng.randint(0, 3))),
        components=tuple(rng.sample(("web", "api"), rng.randint(0, 2))),
        parent_external_id=rng.choice((None, f"{project}-0")),
        milestone_external_ids=tuple(rng.sample(MILESTONES, rng.randint(0, 2))) if project == "10000" else (),
        due_date=rng.choice((None, date(2026, 11, 15) + timedelta(days=rng.randint(-30, 30)))),
        start_date=rng.choice((None, date(2026, 9, 1))),
        created_at=created,
        updated_at=created + timedelta(days=rng.randint(0, 20), microseconds=rng.randint(0, 999_999)),
        resolved_at=created + timedelta(days=5)
        if category is StatusCategory.DONE and rng.random() < 0.7
        else None,
        estimate_seconds=rng.choice((None, 0, 3600, 2**40)),
        spent_seconds=rng.choice((None, 1800)),
        story_points=rng.choice((None, 0.5, 3.0, 13.0)),
        blocked=rng.random() < 0.2,
        url=rng.choice((None, f"https://acme.atlassian.net/browse/K-{n}")),
        raw={"id": str(n), "fields": {"summary": "ü", "nested": [1, 2.5, None, True, {"k": []}]}},
    )


def _changes(rng: random.Random, source_id: int, item: WorkItem, first_history: int) -> list[Change]:
    changes = []
    # Several changes share an instant: the order then falls to the row id.
    instants = [item.created_at + timedelta(hours=rng.randint(1, 400)) for _ in range(3)]
    for index in range(rng.randint(0, 7)):
        field, before, after = rng.choice(
            (
                ("status", "To Do", "In Progress"),
                ("status", "In Progress", "Done"),
                ("duedate", "2026-11-01", "2026-11-15"),
                ("Sprint", "s1", "s1, s2"),
                ("Fix Version", None, "v2"),
                ("labels", "", "blocked"),
                ("assignee", None, "acc-2"),
            )
        )
        changes.append(
            Change(
                source_id=source_id,
                item_external_id=item.external_id,
                external_id=f"{first_history + index}:{index % 2}",
                field=field,
                from_value=before,
                to_value=after,
                from_display=rng.choice((None, before)),
                to_display=rng.choice((None, after, "Ünïcode")),
                author=rng.choice((None, "Dana")),
                changed_at=rng.choice(instants),
            )
        )
    return changes


@pytest.fixture
def dataset(session: Session, source_id: int) -> dict[str, int]:
    """Two projects of the source: a varied one (some items deleted or hidden) and a small one."""
    rng = random.Random(20261102)
    upsert_projects(
        session,
        projects=[
            Project(source_id=source_id, external_id="10001", key="OTHER", name="Other", url="https://x/o"),
        ],
    )
    upsert_milestones(
        session,
        source_id=source_id,
        milestones=[
            Milestone(
                source_id=source_id,
                project_external_id="10000",
                external_id=external_id,
                name=f"Milestone {external_id}",
                kind=MilestoneKind.SPRINT if external_id.startswith("s") else MilestoneKind.VERSION,
                start_date=rng.choice((None, date(2026, 10, 1))),
                due_date=rng.choice((None, date(2026, 11, 20))),
                released=rng.random() < 0.5,
                completed_at=rng.choice((None, T0 + timedelta(days=50, microseconds=123))),
            )
            for external_id in MILESTONES[1:]
        ],
    )
    history = 1000
    for project, count in (("10000", 180), ("10001", 15)):
        items = [_item(rng, source_id, project, n) for n in range(count)]
        changes = []
        for item in items:
            changes += _changes(rng, source_id, item, history)
            history += 10
        upsert_work_items(session, source_id=source_id, items=items, changes=changes)
    mark_items_visibility(
        session,
        source_id=source_id,
        external_ids=["10000-3", "10000-40"],
        visibility=Visibility.DELETED,
        at=NOW,
    )
    mark_items_visibility(
        session, source_id=source_id, external_ids=["10000-7"], visibility=Visibility.HIDDEN, at=NOW
    )
    session.execute(update(SourceRow).where(SourceRow.id == source_id).values(last_synced_at=NOW))
    return {"main": _project_id(session, "10000"), "other": _project_id(session, "10001")}


@pytest.mark.parametrize("visible_only", [True, False])
def test_project_items_are_the_orm_items_in_the_same_order(
    session: Session, dataset: dict[str, int], visible_only: bool
) -> None:
    for project_id in dataset.values():
        expected = orm_project_items(session, project_id=project_id, visible_only=visible_only)

        items = read_project_items(session, project_id=project_id, visible_only=visible_only)

        assert items == expected
        assert list_project_items(session, project_id=project_id, visible_only=visible_only) == expected
    assert len(read_project_items(session, project_id=dataset["main"], visible_only=visible_only)) == (
        177 if visible_only else 180
    )


def test_item_values_keep_their_types(session: Session, dataset: dict[str, int]) -> None:
    items = read_project_items(session, project_id=dataset["main"])

    for item in items:
        assert item.created_at.tzinfo is UTC and item.updated_at.tzinfo is UTC
        assert item.resolved_at is None or item.resolved_at.tzinfo is UTC
        assert isinstance(item.blocked, bool)
        assert type(item.kind) is ItemKind and type(item.visibility) is Visibility
    assert {item.raw["fields"]["summary"] for item in items} == {"ü"}
    changes = read_item_changes(session, item_ids=[item.id for item in items if item.id is not None])
    assert changes
    assert all(change.changed_at.tzinfo is UTC for change in changes)
    milestones = read_project_milestones(session, project_id=dataset["main"])
    assert all(m.completed_at is None or m.completed_at.tzinfo is UTC for m in milestones)
    assert all(type(m.released) is bool for m in milestones)


def test_item_changes_are_the_orm_changes_in_the_same_order(
    session: Session, dataset: dict[str, int]
) -> None:
    items = orm_project_items(session, project_id=dataset["main"], visible_only=False)
    ids = [item.id for item in items if item.id is not None]
    expected = orm_item_changes(session, item_ids=ids)
    assert len(expected) > 500
    assert len({c.changed_at for c in expected}) < len(expected)

    assert read_item_changes(session, item_ids=ids) == expected
    assert read_item_changes(session, item_ids=list(reversed(ids))) == expected
    assert list_item_changes(session, item_ids=iter(ids)) == expected
    some = [*ids[::3], 10**9]
    assert read_item_changes(session, item_ids=some) == orm_item_changes(session, item_ids=some)
    assert read_item_changes(session, item_ids=[]) == []


def test_item_changes_read_in_chunks_merge_in_the_database_order(
    session: Session, dataset: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    items = orm_project_items(session, project_id=dataset["main"], visible_only=False)
    ids = [item.id for item in items if item.id is not None]
    monkeypatch.setattr(work_scan, "ID_CHUNK", 7)

    assert read_item_changes(session, item_ids=ids) == orm_item_changes(session, item_ids=ids)


def test_project_milestones_and_project_are_the_orm_ones(session: Session, dataset: dict[str, int]) -> None:
    for project_id in dataset.values():
        assert read_project_milestones(session, project_id=project_id) == orm_project_milestones(
            session, project_id=project_id
        )
        assert list_project_milestones(session, project_id=project_id) == orm_project_milestones(
            session, project_id=project_id
        )
        assert read_project(session, project_id=project_id) == orm_project(session, project_id=project_id)
    assert len(read_project_milestones(session, project_id=dataset["main"])) == 5
    assert read_project(session, project_id=10**9) is None


def test_source_synced_at(session: Session, source_id: int, dataset: dict[str, int]) -> None:
    assert read_source_synced_at(session, source_id=source_id) == (True, NOW)
    assert read_source_synced_at(session, source_id=10**9) == (False, None)
    session.execute(update(SourceRow).where(SourceRow.id == source_id).values(last_synced_at=None))
    assert read_source_synced_at(session, source_id=source_id) == (True, None)


def test_an_unknown_project_has_no_items_to_read(session: Session, source_id: int) -> None:
    with pytest.raises(NoResultFound):
        read_project_items(session, project_id=10**9)
    with pytest.raises(NoResultFound):
        read_project_milestones(session, project_id=10**9)


def test_pending_orm_changes_are_read_when_the_session_autoflushes(
    session: Session, dataset: dict[str, int]
) -> None:
    row = session.query(WorkItemRow).filter_by(external_id="10000-1").one()
    row.title = "Renamed, not yet flushed"
    session.autoflush = True
    try:
        items = read_project_items(session, project_id=dataset["main"])
    finally:
        session.autoflush = False

    assert next(i for i in items if i.external_id == "10000-1").title == "Renamed, not yet flushed"


def test_items_without_their_payload_are_the_same_items_with_an_empty_one(
    session: Session, dataset: dict[str, int]
) -> None:
    for project_id in dataset.values():
        full = read_project_items(session, project_id=project_id)

        bare = read_project_items(session, project_id=project_id, with_raw=False)

        assert any(item.raw for item in full)
        assert bare == [replace(item, raw={}) for item in full]


def test_snapshot_is_the_snapshot_built_from_the_orm_reads(session: Session, dataset: dict[str, int]) -> None:
    for project_id in dataset.values():
        expected = orm_snapshot(session, project_id=project_id, now=NOW)

        snapshot = load_project_snapshot(session, project_id=project_id, now=NOW)

        assert snapshot.project == expected.project
        assert snapshot.items == expected.items
        assert snapshot.milestones == expected.milestones
        assert snapshot.summary == expected.summary
        assert snapshot.changes == expected.changes
        assert snapshot == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-08-02 12:38:40.313000",
        "2026-08-02 12:38:40",
        "2026-08-02 00:00:00.000001",
        "2026-08-02T12:38:40.313",
        "2026-08-02",
        "20260802",
        "2026-08-02 12:38",
        "2026-08-02 12:38:40+02:00",
        "2026-08-02 12:38:40.313000+00:00",
        "2026-08-02 12:38:40Z",
        "2026-08-02 12:38:40-0530",
        None,
    ],
)
def test_sqlite_datetime_text_converts_as_the_column_type_does(text: str | None) -> None:
    dialect = sqlite.dialect()
    column = UTCDateTime()
    process = column.dialect_impl(dialect).result_processor(dialect, None)
    assert process is not None
    expected = process(text)

    converted = driver_dialect("sqlite").read_datetime(text)

    assert converted == expected
    assert converted is None or (converted.tzinfo is UTC and converted.utcoffset() == timedelta(0))
