from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.domain.work import Worklog
from service.store.items import upsert_work_items
from service.store.orm import WorkItemRow, WorklogRow
from service.store.worklogs import (
    delete_worklogs,
    list_worklog_external_ids,
    list_worklogs,
    save_worklogs,
)
from tests.service.store.test_items import make_item

STARTED = datetime(2026, 10, 20, 9, 15, 30, 250000, tzinfo=UTC)


def make_worklog(
    source_id: int, n: int, *, item: int = 1, seconds: int = 3600, updated: datetime = STARTED
) -> Worklog:
    return Worklog(
        source_id=source_id,
        item_external_id=str(20000 + item),
        external_id=str(10000 + n),
        started_at=STARTED + timedelta(hours=n),
        spent_seconds=seconds,
        updated_at=updated,
    )


def _stored(session: Session, source_id: int, *items: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, n) for n in items])


def _without_ids(worklogs: list[Worklog]) -> list[Worklog]:
    return [replace(w, id=None) for w in worklogs]


def test_save_worklogs_then_list_reads_the_same_values(session: Session, source_id: int) -> None:
    _stored(session, source_id, 1, 2)
    worklogs = [make_worklog(source_id, 1), make_worklog(source_id, 2, item=2, seconds=900)]

    written = save_worklogs(session, source_id=source_id, worklogs=worklogs)

    assert written == 2
    listed = list_worklogs(session, source_id=source_id)
    assert _without_ids(listed) == worklogs
    assert all(w.id is not None for w in listed)


def test_save_worklogs_matches_an_orm_insert_column_for_column(session: Session, source_id: int) -> None:
    _stored(session, source_id, 1)
    worklog = make_worklog(source_id, 1)
    item_id = session.scalars(select(WorkItemRow.id).where(WorkItemRow.source_id == source_id)).one()
    session.add(
        WorklogRow(
            source_id=source_id,
            item_id=item_id,
            external_id="orm",
            started_at=worklog.started_at,
            spent_seconds=worklog.spent_seconds,
            updated_at=worklog.updated_at,
        )
    )
    session.flush()

    save_worklogs(session, source_id=source_id, worklogs=[worklog])

    session.expire_all()
    rows = {row.external_id: row for row in session.scalars(select(WorklogRow))}
    columns = ("source_id", "item_id", "started_at", "spent_seconds", "updated_at")
    assert [getattr(rows[worklog.external_id], c) for c in columns] == [
        getattr(rows["orm"], c) for c in columns
    ]


def test_save_worklogs_again_keeps_one_row_with_the_latest_values(session: Session, source_id: int) -> None:
    _stored(session, source_id, 1, 2)
    first = make_worklog(source_id, 1)
    changed = replace(
        first, item_external_id="20002", spent_seconds=5400, updated_at=STARTED + timedelta(days=1)
    )
    save_worklogs(session, source_id=source_id, worklogs=[first])
    (stored,) = list_worklogs(session, source_id=source_id)

    save_worklogs(session, source_id=source_id, worklogs=[changed])

    (again,) = list_worklogs(session, source_id=source_id)
    assert again == replace(changed, id=stored.id)


def test_save_worklogs_of_one_page_naming_a_worklog_twice_keeps_the_newest(
    session: Session, source_id: int
) -> None:
    _stored(session, source_id, 1)
    older = make_worklog(source_id, 1, seconds=60)
    newer = replace(older, spent_seconds=120, updated_at=STARTED + timedelta(minutes=5))

    save_worklogs(session, source_id=source_id, worklogs=[newer, older])

    assert [w.spent_seconds for w in list_worklogs(session, source_id=source_id)] == [120]


def test_save_worklogs_of_items_not_stored_leaves_them_out(session: Session, source_id: int) -> None:
    _stored(session, source_id, 1)

    written = save_worklogs(
        session,
        source_id=source_id,
        worklogs=[make_worklog(source_id, 1), make_worklog(source_id, 2, item=9)],
    )

    assert written == 1
    assert list_worklog_external_ids(session, source_id=source_id) == {"10001"}


def test_delete_worklogs_removes_them_and_counts_only_stored_ones(session: Session, source_id: int) -> None:
    _stored(session, source_id, 1)
    save_worklogs(session, source_id=source_id, worklogs=[make_worklog(source_id, n) for n in (1, 2, 3)])

    deleted = delete_worklogs(session, source_id=source_id, external_ids=["10001", "10003", "99999"])

    assert deleted == 2
    assert list_worklog_external_ids(session, source_id=source_id) == {"10002"}


def test_worklog_ids_are_never_handed_out_twice(session: Session, source_id: int) -> None:
    _stored(session, source_id, 1)
    save_worklogs(session, source_id=source_id, worklogs=[make_worklog(source_id, 1)])
    (first,) = list_worklogs(session, source_id=source_id)
    delete_worklogs(session, source_id=source_id, external_ids=["10001"])

    save_worklogs(session, source_id=source_id, worklogs=[make_worklog(source_id, 2)])

    (second,) = list_worklogs(session, source_id=source_id)
    assert first.id is not None and second.id is not None
    assert second.id > first.id


def test_deleting_an_item_deletes_its_worklogs(session: Session, source_id: int) -> None:
    _stored(session, source_id, 1, 2)
    save_worklogs(
        session,
        source_id=source_id,
        worklogs=[make_worklog(source_id, 1), make_worklog(source_id, 2, item=2)],
    )

    session.execute(delete(WorkItemRow).where(WorkItemRow.external_id == "20001"))

    assert list_worklog_external_ids(session, source_id=source_id) == {"10002"}
