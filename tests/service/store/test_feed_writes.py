"""Writing feed events, on both databases: each client is told only what its scope covers, counts
included, and loses what it no longer sees; and an event becomes visible only after every event
with a smaller id, so a reader that has passed an id (a feed cursor, a subscription) never misses one."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import FeedEventKind, ItemKind, ScopeRule, SourceKind, StatusCategory
from service.domain.signals import EventDraft
from service.domain.work import Project, WorkItem
from service.feed.derive import ItemState, ProjectState, derive_events
from service.store.db import transaction
from service.store.feed_writes import lock_feed_writes, publish_events
from service.store.items import list_project_items, list_project_milestones, upsert_work_items
from service.store.orm import FeedEventRow
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.store.tenancy import add_client, add_scope
from tests.support.sources import add_test_source

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
# How long the second writer is given to finish while the first holds its transaction open: it
# must not, however long it is given; a broken lock lets it finish in milliseconds.
BLOCKED_FOR_S = 1.0


def _project_seen_by_a_client(store: Store) -> int:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="jira", webhook_secret=None)
    with transaction(store.sessions) as session:
        project_id = upsert_projects(
            session, projects=[Project(source_id=source_id, external_id="P", key="P", name="Web")]
        )["P"]
        client = add_client(session, name="acme", now=NOW)
        assert client.id is not None
        add_scope(session, client_id=client.id, project_id=project_id, rule=ScopeRule.ALL, value=None)
    return project_id


def _draft(project_id: int, key: str) -> EventDraft:
    return EventDraft(
        kind=FeedEventKind.ITEM_DONE,
        dedupe_key=key,
        summary=key,
        payload={},
        occurred_at=NOW,
        project_id=project_id,
    )


def _visible(store: Store) -> list[str]:
    with store.sessions() as session:
        return list(session.scalars(select(FeedEventRow.dedupe_key).order_by(FeedEventRow.id)))


def test_a_second_writer_waits_until_the_first_commits_so_ids_become_visible_in_order(
    dialect_store: Store,
) -> None:
    project_id = _project_seen_by_a_client(dialect_store)
    first_wrote, first_may_commit, second_done = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first() -> None:
        try:
            with transaction(dialect_store.sessions) as session:
                lock_feed_writes(session)
                publish_events(session, drafts=[_draft(project_id, "first")], now=NOW)
                first_wrote.set()
                first_may_commit.wait(timeout=30)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
            first_wrote.set()

    def second() -> None:
        try:
            with transaction(dialect_store.sessions) as session:
                lock_feed_writes(session)
                publish_events(session, drafts=[_draft(project_id, "second")], now=NOW)
            second_done.set()
        except BaseException as exc:
            failures.append(exc)

    writers = [threading.Thread(target=first), threading.Thread(target=second)]
    writers[0].start()
    assert first_wrote.wait(timeout=30)
    writers[1].start()
    waited = not second_done.wait(timeout=BLOCKED_FOR_S)
    seen_while_first_open = _visible(dialect_store)
    first_may_commit.set()
    for writer in writers:
        writer.join(timeout=30)

    assert failures == []
    assert waited, "the second writer committed while the first held its events uncommitted"
    assert seen_while_first_open == []
    assert _visible(dialect_store) == ["first", "second"]


# Each client's scope


def _item(source_id: int, number: int, *, done: bool, labels: tuple[str, ...] = ()) -> WorkItem:
    return WorkItem(
        source_id=source_id,
        project_external_id="10000",
        external_id=f"id-{number}",
        key=f"ACME-{number}",
        title=f"Item {number}",
        kind=ItemKind.STORY,
        status="Done" if done else "Open",
        status_category=StatusCategory.DONE if done else StatusCategory.TODO,
        labels=labels,
        milestone_external_ids=("v1",),
        created_at=NOW - timedelta(days=40),
        updated_at=NOW - timedelta(days=2),
        resolved_at=NOW - timedelta(days=2) if done else None,
    )


@pytest.fixture
def project_id(session: Session, source_id: int) -> int:
    """ACME's milestone 1.0 holds 26 items, 13 done; 4 of them (2 done) carry the label `client`."""
    items = [_item(source_id, n, done=n <= 2, labels=("client",)) for n in range(1, 5)]
    items += [_item(source_id, n, done=n <= 15, labels=("internal",)) for n in range(5, 27)]
    upsert_work_items(session, source_id=source_id, items=items)
    return upsert_projects(
        session, projects=[Project(source_id=source_id, external_id="10000", key="ACME", name="Acme web")]
    )["10000"]


def client_with(
    session: Session, name: str, project_id: int, rule: ScopeRule, value: str | None = None
) -> int:
    client = add_client(session, name=name, now=NOW)
    assert client.id is not None
    add_scope(session, client_id=client.id, project_id=project_id, rule=rule, value=value)
    return client.id


def drafts_of(session: Session, project_id: int, *, now: datetime = NOW) -> list[EventDraft]:
    """What an evaluation derives from the project as stored."""
    state = ProjectState(
        project_id=project_id,
        items=[
            ItemState(item=item, done_at=item.resolved_at if item.is_done else None)
            for item in list_project_items(session, project_id=project_id)
        ],
        milestones=list_project_milestones(session, project_id=project_id),
    )
    return derive_events((), state, now=now)


def set_item(
    session: Session, source_id: int, number: int, *, done: bool, labels: tuple[str, ...], hours: int = 0
) -> None:
    """Item `number` as changed at the provider `hours` past the seeded state's last update."""
    changed = _item(source_id, number, done=done, labels=labels)
    upsert_work_items(
        session,
        source_id=source_id,
        items=[replace(changed, updated_at=changed.updated_at + timedelta(hours=hours + 1))],
    )


def feed_of(session: Session, client_id: int, kind: FeedEventKind | None = None) -> list[FeedEventRow]:
    query = select(FeedEventRow).where(FeedEventRow.client_id == client_id).order_by(FeedEventRow.id)
    if kind is not None:
        query = query.where(FeedEventRow.kind == kind.value)
    return list(session.scalars(query))


def progress_of(session: Session, client_id: int) -> list[str]:
    return [e.summary for e in feed_of(session, client_id, FeedEventKind.MILESTONE_PROGRESS)]


def test_publish_events_counts_milestone_progress_over_each_clients_scope(
    session: Session, project_id: int
) -> None:
    everything = client_with(session, "globex", project_id, ScopeRule.ALL)
    labelled = client_with(session, "acme", project_id, ScopeRule.LABEL, "client")
    filtered = client_with(session, "initech", project_id, ScopeRule.FILTER, "label:client category:done")

    publish_events(session, drafts=drafts_of(session, project_id), now=NOW)

    assert progress_of(session, everything) == ["1.0: 13 of 26 done"]
    assert progress_of(session, labelled) == ["1.0: 2 of 4 done"]
    assert progress_of(session, filtered) == ["1.0: 2 of 2 done"]
    [event] = feed_of(session, labelled, FeedEventKind.MILESTONE_PROGRESS)
    assert event.payload == {"milestone": "1.0", "milestone_id": event.milestone_id, "done": 2, "total": 4}
    assert "13 of" not in event.document and "of 26" not in event.document


def test_publish_events_tells_a_client_that_sees_no_member_nothing_of_the_milestone(
    session: Session, project_id: int
) -> None:
    outsider = client_with(session, "acme", project_id, ScopeRule.LABEL, "nobody-has-this")

    new = publish_events(session, drafts=drafts_of(session, project_id), now=NOW)

    assert new == 0
    assert feed_of(session, outsider) == []


def test_publish_events_of_an_unchanged_count_writes_nothing(session: Session, project_id: int) -> None:
    labelled = client_with(session, "acme", project_id, ScopeRule.LABEL, "client")
    publish_events(session, drafts=drafts_of(session, project_id), now=NOW)

    again = publish_events(
        session,
        drafts=drafts_of(session, project_id, now=NOW + timedelta(hours=1)),
        now=NOW + timedelta(hours=1),
    )

    assert again == 0
    assert progress_of(session, labelled) == ["1.0: 2 of 4 done"]


def test_publish_events_tells_a_count_that_comes_back_again(
    session: Session, source_id: int, project_id: int
) -> None:
    labelled = client_with(session, "acme", project_id, ScopeRule.LABEL, "client")
    publish_events(session, drafts=drafts_of(session, project_id), now=NOW)
    set_item(session, source_id, 3, done=True, labels=("client",))
    publish_events(session, drafts=drafts_of(session, project_id), now=NOW)

    set_item(session, source_id, 3, done=False, labels=("client",), hours=1)  # reopened
    publish_events(session, drafts=drafts_of(session, project_id), now=NOW)

    assert progress_of(session, labelled) == ["1.0: 2 of 4 done", "1.0: 3 of 4 done", "1.0: 2 of 4 done"]


def test_publish_events_withdraws_what_a_client_no_longer_sees(
    session: Session, source_id: int, project_id: int
) -> None:
    everything = client_with(session, "globex", project_id, ScopeRule.ALL)
    labelled = client_with(session, "acme", project_id, ScopeRule.LABEL, "client")
    publish_events(session, drafts=drafts_of(session, project_id), now=NOW)
    assert [e.summary for e in feed_of(session, labelled, FeedEventKind.ITEM_DONE)] == [
        "ACME-1 done: Item 1",
        "ACME-2 done: Item 2",
    ]

    set_item(session, source_id, 1, done=True, labels=())
    publish_events(session, drafts=(), projects=(project_id,), now=NOW)

    assert [e.summary for e in feed_of(session, labelled, FeedEventKind.ITEM_DONE)] == ["ACME-2 done: Item 2"]
    assert len(feed_of(session, everything, FeedEventKind.ITEM_DONE)) == 13
    for number in (2, 3, 4):
        set_item(session, source_id, number, done=number == 2, labels=())
    publish_events(session, drafts=drafts_of(session, project_id), projects=(project_id,), now=NOW)
    assert feed_of(session, labelled) == []
    assert progress_of(session, everything) == ["1.0: 13 of 26 done"]


def test_publish_events_for_one_client_tells_no_other(session: Session, project_id: int) -> None:
    first = client_with(session, "acme", project_id, ScopeRule.LABEL, "client")
    other = client_with(session, "globex", project_id, ScopeRule.ALL)

    publish_events(session, drafts=drafts_of(session, project_id), now=NOW, client_id=first)

    assert progress_of(session, first) == ["1.0: 2 of 4 done"]
    assert feed_of(session, other) == []


def test_a_risk_on_a_milestone_reaches_only_clients_who_see_one_of_its_members(
    session: Session, source_id: int, project_id: int
) -> None:
    labelled = client_with(session, "acme", project_id, ScopeRule.LABEL, "client")
    outsider = client_with(session, "globex", project_id, ScopeRule.LABEL, "nobody-has-this")
    [milestone] = list_project_milestones(session, project_id=project_id)
    risk = replace(
        _draft(project_id, "risk_raised:9"), kind=FeedEventKind.RISK_RAISED, milestone_id=milestone.id
    )

    publish_events(session, drafts=[risk], now=NOW)

    [told] = feed_of(session, labelled, FeedEventKind.RISK_RAISED)
    assert told.milestone_id == milestone.id
    assert feed_of(session, outsider) == []
    for number in range(1, 5):  # the labelled client no longer sees any member: the risk goes
        set_item(session, source_id, number, done=number <= 2, labels=())
    publish_events(session, drafts=(), projects=(project_id,), now=NOW)
    assert feed_of(session, labelled, FeedEventKind.RISK_RAISED) == []
