"""Activity rows on both databases: written once, comments kept in step with their provider, and
pmbridge's own flag comments left out when read."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import ActivityKind, ItemKind, SourceKind, StatusCategory
from service.domain.work import Activity, Project, WorkItem
from service.store.activity import (
    count_activity,
    delete_activity,
    list_item_activity,
    list_latest_item_activity,
    list_project_activity,
    save_activity,
    save_item_comments,
)
from service.store.db import transaction
from service.store.items import upsert_work_items
from service.store.orm import FlagRow, ProjectRow, WorkItemRow, WorklogRow
from service.store.projects import upsert_projects
from service.store.runtime import Store
from tests.support.sources import add_test_source

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
# How long the first writer holds its row uncommitted while the second writes the same one.
BLOCKED_FOR_S = 0.5


def item(source_id: int, n: int) -> WorkItem:
    return WorkItem(
        source_id=source_id,
        project_external_id="10000",
        external_id=str(20000 + n),
        key=f"ACME-{n}",
        title=f"Item {n}",
        kind=ItemKind.STORY,
        status="In Progress",
        status_category=StatusCategory.IN_PROGRESS,
        created_at=T0 - timedelta(days=10),
        updated_at=T0,
    )


def comment(
    source_id: int, n: int, comment_id: str, *, at: datetime = T0, edited: datetime | None = None
) -> Activity:
    return Activity(
        source_id=source_id,
        item_external_id=str(20000 + n),
        external_id=comment_id,
        kind=ActivityKind.COMMENT,
        author="Dana",
        created_at=at,
        updated_at=edited or at,
    )


def stored_ids(session: Session, source_id: int, n: int) -> list[tuple[str, datetime]]:
    found = list_item_activity(session, source_id=source_id, item_external_id=str(20000 + n))
    return [(a.external_id, a.updated_at) for a in found]


def project_id(session: Session) -> int:
    return int(session.scalars(select(ProjectRow.id).where(ProjectRow.external_id == "10000")).one())


def item_id(session: Session, n: int) -> int:
    return int(session.scalars(select(WorkItemRow.id).where(WorkItemRow.external_id == str(20000 + n))).one())


def test_save_activity_replayed_writes_nothing_new(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[item(source_id, 1)])
    first = save_activity(session, source_id=source_id, activities=[comment(source_id, 1, "c1")])

    again = save_activity(session, source_id=source_id, activities=[comment(source_id, 1, "c1")])

    assert first == [item_id(session, 1)]
    assert again == []
    assert count_activity(session, source_id=source_id) == 1


def test_save_activity_edit_moves_forward_never_back(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[item(source_id, 1)])
    later = T0 + timedelta(hours=5)
    save_activity(session, source_id=source_id, activities=[comment(source_id, 1, "c1", edited=later)])

    older = save_activity(session, source_id=source_id, activities=[comment(source_id, 1, "c1")])

    assert older == []
    assert stored_ids(session, source_id, 1) == [("c1", later)]


def test_save_activity_of_an_item_not_stored_is_skipped(session: Session, source_id: int) -> None:
    assert save_activity(session, source_id=source_id, activities=[comment(source_id, 9, "c1")]) == []
    assert count_activity(session, source_id=source_id) == 0


def test_save_item_comments_makes_the_stored_set_the_listed_one(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[item(source_id, 1), item(source_id, 2)])
    save_activity(
        session,
        source_id=source_id,
        activities=[
            comment(source_id, 1, "c1"),
            comment(source_id, 1, "c2"),
            comment(source_id, 2, "c3"),
            Activity(
                source_id=source_id,
                item_external_id="20001",
                external_id="a1",
                kind=ActivityKind.CHECKLIST,
                created_at=T0,
                updated_at=T0,
            ),
        ],
    )
    edited = T0 + timedelta(days=1)

    changed = save_item_comments(
        session,
        source_id=source_id,
        comments={"20001": [comment(source_id, 1, "c2", edited=edited), comment(source_id, 1, "c4")]},
    )

    assert changed == [item_id(session, 1)]
    assert sorted(stored_ids(session, source_id, 1)) == [("a1", T0), ("c2", edited), ("c4", T0)]
    assert stored_ids(session, source_id, 2) == [("c3", T0)]


def test_delete_activity_removes_named_rows_and_names_their_items(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[item(source_id, 1)])
    save_activity(
        session, source_id=source_id, activities=[comment(source_id, 1, "c1"), comment(source_id, 1, "c2")]
    )

    changed = delete_activity(session, source_id=source_id, external_ids=["c1", "gone"])

    assert changed == [item_id(session, 1)]
    assert stored_ids(session, source_id, 1) == [("c2", T0)]


def test_list_latest_item_activity_is_the_latest_per_item(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[item(source_id, 1), item(source_id, 2)])
    save_activity(
        session,
        source_id=source_id,
        activities=[
            comment(source_id, 1, "c1", at=T0, edited=T0 + timedelta(days=3)),
            comment(source_id, 1, "c2", at=T0 + timedelta(days=1)),
            comment(source_id, 2, "c3", at=T0 + timedelta(days=2)),
        ],
    )

    latest = list_latest_item_activity(session, project_id=project_id(session))

    assert {key: (a.external_id, a.last_at) for key, a in latest.items()} == {
        "20001": ("c1", T0 + timedelta(days=3)),
        "20002": ("c3", T0 + timedelta(days=2)),
    }


def test_reads_leave_out_pmbridges_own_flag_comments(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[item(source_id, 1)])
    save_activity(
        session,
        source_id=source_id,
        activities=[comment(source_id, 1, "human"), comment(source_id, 1, "ours", at=T0 + timedelta(days=4))],
    )
    session.add(
        FlagRow(
            rule_id="stale_in_progress",
            subject="item",
            subject_id=item_id(session, 1),
            severity="warning",
            message="stale",
            evidence={},
            fingerprint="fp",
            first_seen_at=T0,
            last_seen_at=T0,
            pushed_comment_id="ours",
        )
    )
    session.flush()

    latest = list_latest_item_activity(session, project_id=project_id(session))
    history = list_project_activity(session, project_id=project_id(session))

    assert latest["20001"].external_id == "human"
    assert [a.external_id for a in history] == ["human"]
    assert {
        a.external_id for a in list_item_activity(session, source_id=source_id, item_external_id="20001")
    } == {
        "human",
        "ours",
    }


def test_reads_count_worklogs_as_activity_when_logged(session: Session, source_id: int) -> None:
    upsert_work_items(session, source_id=source_id, items=[item(source_id, 1), item(source_id, 2)])
    save_activity(
        session, source_id=source_id, activities=[comment(source_id, 1, "c1", at=T0 + timedelta(days=1))]
    )
    logged = T0 + timedelta(days=2)
    session.add_all(
        [
            WorklogRow(
                source_id=source_id,
                item_id=item_id(session, n),
                external_id=f"w{n}",
                started_at=T0 - timedelta(days=20),
                spent_seconds=3600,
                updated_at=logged,
            )
            for n in (1, 2)
        ]
    )
    session.flush()

    latest = list_latest_item_activity(session, project_id=project_id(session))
    history = list_project_activity(session, project_id=project_id(session))

    assert {key: (a.kind, a.last_at) for key, a in latest.items()} == {
        "20001": (ActivityKind.WORKLOG, logged),
        "20002": (ActivityKind.WORKLOG, logged),
    }
    assert [(a.item_external_id, a.kind) for a in history] == [
        ("20001", ActivityKind.COMMENT),
        ("20001", ActivityKind.WORKLOG),
        ("20002", ActivityKind.WORKLOG),
    ]


def test_the_same_comment_added_by_two_writers_at_once_is_stored_once(dialect_store: Store) -> None:
    """A sync's comment pass and a comment webhook read the comment as new, then both add it: the
    second to commit finds it stored and adds nothing, rather than failing its job."""
    source_id = add_test_source(dialect_store, kind=SourceKind.JIRA_CLOUD, name="jira", webhook_secret=None)
    with transaction(dialect_store.sessions) as session:
        upsert_projects(
            session, projects=[Project(source_id=source_id, external_id="10000", key="ACME", name="A")]
        )
        upsert_work_items(session, source_id=source_id, items=[item(source_id, 1)])
    first_wrote = threading.Event()
    failures: list[BaseException] = []

    def second() -> None:
        try:
            with transaction(dialect_store.sessions) as session:
                first_wrote.wait(timeout=30)
                save_activity(session, source_id=source_id, activities=[comment(source_id, 1, "c1")])
        except BaseException as exc:  # reported below
            failures.append(exc)

    with transaction(dialect_store.sessions) as session:
        save_activity(session, source_id=source_id, activities=[comment(source_id, 1, "c1")])
        thread = threading.Thread(target=second)
        thread.start()
        first_wrote.set()
        # The second reads the comment as new, then waits on the first's uncommitted row.
        thread.join(timeout=BLOCKED_FOR_S)
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert failures == []
    with dialect_store.sessions() as session:
        assert [c for c, _ in stored_ids(session, source_id, 1)] == ["c1"]
