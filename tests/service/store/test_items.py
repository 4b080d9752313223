from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.domain.enums import ItemKind, Priority, StatusCategory, Visibility
from service.domain.work import Change, Person, WorkItem
from service.errors import NotFoundError
from service.store.items import (
    find_work_item,
    get_work_item,
    list_item_changes,
    list_item_external_ids,
    mark_items_visibility,
    upsert_work_items,
)
from service.store.orm import ChangeRow, ItemMilestoneRow, PersonRow, WorkItemRow

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def make_item(source_id: int, n: int, *, updated: datetime = T0, title: str | None = None) -> WorkItem:
    return WorkItem(
        source_id=source_id,
        project_external_id="10000",
        external_id=str(20000 + n),
        key=f"ACME-{n}",
        title=title or f"Item {n}",
        kind=ItemKind.STORY,
        status="In Progress",
        status_category=StatusCategory.IN_PROGRESS,
        priority=Priority.HIGH,
        assignee=Person(external_id="acc-1", display_name="Dana", email="dana@example.com"),
        labels=("client-visible",),
        milestone_external_ids=("v1",),
        due_date=date(2026, 11, 15),
        created_at=T0 - timedelta(days=10),
        updated_at=updated,
        story_points=3.0,
        raw={"id": str(20000 + n)},
    )


def make_change(source_id: int, n: int, history: str, *, field: str = "duedate") -> Change:
    return Change(
        source_id=source_id,
        item_external_id=str(20000 + n),
        external_id=f"{history}:0",
        field=field,
        from_value="2026-11-01",
        to_value="2026-11-15",
        author="Dana",
        changed_at=T0,
    )


def test_upsert_work_items_new_items_are_inserted_with_changes(session: Session, source_id: int) -> None:
    result = upsert_work_items(
        session,
        source_id=source_id,
        items=[make_item(source_id, 1), make_item(source_id, 2)],
        changes=[make_change(source_id, 1, "h1")],
    )

    assert len(result.changed_item_ids) == 2
    assert result.changes_added == 1
    stored = get_work_item(session, source_id=source_id, external_id="20001")
    assert stored.title == "Item 1"
    assert stored.assignee == Person(external_id="acc-1", display_name="Dana")
    assert stored.milestone_external_ids == ("v1",)
    assert session.scalar(select(func.count()).select_from(ItemMilestoneRow)) == 2
    assert session.scalar(select(func.count()).select_from(PersonRow)) == 1


def test_upsert_work_items_same_page_twice_changes_nothing(session: Session, source_id: int) -> None:
    page = [make_item(source_id, 1), make_item(source_id, 2)]
    changes = [make_change(source_id, 1, "h1"), make_change(source_id, 2, "h2")]
    upsert_work_items(session, source_id=source_id, items=page, changes=changes)

    again = upsert_work_items(session, source_id=source_id, items=page, changes=changes)

    assert again.changed_item_ids == ()
    assert again.changes_added == 0
    assert session.scalar(select(func.count()).select_from(WorkItemRow)) == 2
    assert session.scalar(select(func.count()).select_from(ChangeRow)) == 2


def test_upsert_work_items_older_payload_never_overwrites_newer(session: Session, source_id: int) -> None:
    newer = make_item(source_id, 1, updated=T0 + timedelta(hours=1), title="Newer title")
    older = make_item(source_id, 1, updated=T0, title="Older title")
    upsert_work_items(session, source_id=source_id, items=[newer])

    result = upsert_work_items(session, source_id=source_id, items=[older])

    assert result.changed_item_ids == ()
    assert get_work_item(session, source_id=source_id, external_id="20001").title == "Newer title"


def test_upsert_work_items_newer_payload_replaces_stored(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, 1)])

    result = upsert_work_items(
        session,
        source_id=source_id,
        items=[
            replace(make_item(source_id, 1, updated=T0 + timedelta(minutes=1)), milestone_external_ids=())
        ],
    )

    assert len(result.changed_item_ids) == 1
    assert get_work_item(session, source_id=source_id, external_id="20001").milestone_external_ids == ()
    assert session.scalar(select(func.count()).select_from(ItemMilestoneRow)) == 0


def test_upsert_work_items_duplicate_in_one_page_keeps_newest(session: Session, source_id: int) -> None:
    page = [
        make_item(source_id, 1, updated=T0 + timedelta(minutes=5), title="late"),
        make_item(source_id, 1, updated=T0, title="early"),
    ]

    upsert_work_items(session, source_id=source_id, items=page)

    assert get_work_item(session, source_id=source_id, external_id="20001").title == "late"


def test_upsert_work_items_deleted_item_seen_again_becomes_visible(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, 1)])
    mark_items_visibility(
        session, source_id=source_id, external_ids=["20001"], visibility=Visibility.HIDDEN, at=T0
    )

    result = upsert_work_items(session, source_id=source_id, items=[make_item(source_id, 1)])

    assert len(result.changed_item_ids) == 1
    assert get_work_item(session, source_id=source_id, external_id="20001").visibility is Visibility.VISIBLE


def test_upsert_work_items_newer_payload_keeps_its_milestone_link_once(
    session: Session, source_id: int
) -> None:
    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, 1)])

    result = upsert_work_items(
        session, source_id=source_id, items=[make_item(source_id, 1, updated=T0 + timedelta(minutes=1))]
    )

    assert len(result.changed_item_ids) == 1
    assert session.scalar(select(func.count()).select_from(ItemMilestoneRow)) == 1


def test_upsert_work_items_mixed_page_adds_only_changes_not_stored(session: Session, source_id: int) -> None:
    upsert_work_items(
        session,
        source_id=source_id,
        items=[make_item(source_id, 1)],
        changes=[make_change(source_id, 1, "h1")],
    )

    result = upsert_work_items(
        session,
        source_id=source_id,
        items=[make_item(source_id, 1, updated=T0 + timedelta(minutes=1)), make_item(source_id, 2)],
        changes=[
            make_change(source_id, 1, "h1"),  # stored already
            make_change(source_id, 1, "h3"),
            make_change(source_id, 2, "h2"),
        ],
    )

    assert len(result.changed_item_ids) == 2
    assert result.changes_added == 2
    assert sorted(session.scalars(select(ChangeRow.external_id))) == ["h1:0", "h2:0", "h3:0"]


def test_upsert_work_items_changes_of_a_stored_item_without_its_payload(
    session: Session, source_id: int
) -> None:
    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, 1)])
    changes = [make_change(source_id, 1, "h1"), make_change(source_id, 1, "h2")]

    first = upsert_work_items(session, source_id=source_id, items=[], changes=changes)
    again = upsert_work_items(session, source_id=source_id, items=[], changes=changes)

    assert (first.changed_item_ids, first.changes_added) == ((), 2)
    assert (again.changed_item_ids, again.changes_added) == ((), 0)
    assert session.scalar(select(func.count()).select_from(ChangeRow)) == 2


def test_upsert_work_items_pushed_payload_restores_only_when_newer_than_the_delete(
    session: Session, source_id: int
) -> None:
    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, 1)])
    deleted_at = T0 + timedelta(hours=1)
    mark_items_visibility(
        session, source_id=source_id, external_ids=["20001"], visibility=Visibility.DELETED, at=deleted_at
    )

    late = upsert_work_items(
        session,
        source_id=source_id,
        items=[make_item(source_id, 1, updated=T0 + timedelta(minutes=30))],
        authoritative=False,
    )
    assert late.changed_item_ids == ()
    assert get_work_item(session, source_id=source_id, external_id="20001").visibility is Visibility.DELETED

    newer = upsert_work_items(
        session,
        source_id=source_id,
        items=[make_item(source_id, 1, updated=deleted_at + timedelta(minutes=1))],
        authoritative=False,
    )
    assert len(newer.changed_item_ids) == 1
    assert get_work_item(session, source_id=source_id, external_id="20001").visibility is Visibility.VISIBLE


def test_upsert_work_items_change_of_unknown_item_is_refused(session: Session, source_id: int) -> None:
    with pytest.raises(NotFoundError):
        upsert_work_items(session, source_id=source_id, items=[], changes=[make_change(source_id, 9, "h9")])


def test_mark_items_visibility_repeated_mark_counts_once(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, 1), make_item(source_id, 2)])

    first = mark_items_visibility(
        session, source_id=source_id, external_ids=["20001"], visibility=Visibility.DELETED, at=T0
    )
    second = mark_items_visibility(
        session, source_id=source_id, external_ids=["20001"], visibility=Visibility.DELETED, at=T0
    )

    assert (first, second) == (1, 0)
    assert list_item_external_ids(session, source_id=source_id) == {"20002"}


def test_find_work_item_unknown_returns_none(session: Session, source_id: int) -> None:
    assert find_work_item(session, source_id=source_id, external_id="nope") is None


def test_list_item_changes_orders_by_time(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, 1)])
    late = replace(make_change(source_id, 1, "h2"), changed_at=T0 + timedelta(days=1))
    early = replace(make_change(source_id, 1, "h1"), changed_at=T0 - timedelta(days=1))
    upsert_work_items(session, source_id=source_id, items=[], changes=[late, early])
    item = get_work_item(session, source_id=source_id, external_id="20001")
    assert item.id is not None

    assert [c.external_id for c in list_item_changes(session, item_ids=[item.id])] == ["h1:0", "h2:0"]
