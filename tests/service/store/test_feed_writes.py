"""Writers of feed events, on both databases: an event becomes visible only after every event with a
smaller id, so a reader that has passed an id (a feed cursor, a subscription) never misses one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from service.domain.enums import FeedEventKind, ScopeRule, SourceKind
from service.domain.signals import EventDraft
from service.domain.work import Project
from service.store.db import transaction
from service.store.feed_writes import lock_feed_writes, publish_events
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
