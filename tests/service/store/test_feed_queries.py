"""The feed page on the hot path, on both databases: the same events, count, last id and has_more
as a plain ordered query, at every page size and cursor, and again after its connection is lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import Engine, insert, select

from service.store.feed_queries import FeedPageQuery
from service.store.orm import ClientRow, FeedEventRow, ProjectRow, SourceRow
from service.store.thread_connections import ThreadConnections

AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PROJECTS = 3


def _seed(migrated_engine: Engine) -> tuple[int, list[int]]:
    """One client with 13 events: every third without a project, the rest spread over 3 projects;
    another client's events in between."""
    with migrated_engine.begin() as connection:
        clients = [
            connection.execute(
                insert(ClientRow).values(name=name, created_at=AT).returning(ClientRow.id)
            ).scalar_one()
            for name in ("acme", "globex")
        ]
        source_id = connection.execute(
            insert(SourceRow)
            .values(
                kind="jira_cloud",
                name="s",
                base_url="https://s.example",
                credentials_encrypted=b"x",
                created_at=AT,
            )
            .returning(SourceRow.id)
        ).scalar_one()
        projects = [
            connection.execute(
                insert(ProjectRow)
                .values(source_id=source_id, external_id=str(n), key=f"P{n}", name=f"P{n}")
                .returning(ProjectRow.id)
            ).scalar_one()
            for n in range(PROJECTS)
        ]
        for n in range(13):
            for client_id in clients:
                connection.execute(
                    insert(FeedEventRow).values(
                        client_id=client_id,
                        project_id=None if n % 3 == 0 else projects[n % PROJECTS],
                        kind="item_done",
                        summary=f"event {n}",
                        payload={"n": n},
                        dedupe_key=f"k{n}",
                        occurred_at=AT + timedelta(minutes=n),
                        created_at=AT,
                    )
                )
    return clients[0], projects


def _expected(
    migrated_engine: Engine, *, client_id: int, after_id: int, projects: list[int], limit: int
) -> tuple[list[str], bool]:
    with migrated_engine.connect() as connection:
        documents = (
            connection.execute(
                select(FeedEventRow.document)
                .where(
                    FeedEventRow.client_id == client_id,
                    FeedEventRow.id > after_id,
                    FeedEventRow.project_id.is_(None) | FeedEventRow.project_id.in_(projects),
                )
                .order_by(FeedEventRow.id)
            )
            .scalars()
            .all()
        )
    return list(documents[:limit]), len(documents) > limit


@pytest.mark.parametrize("limit", [1, 4, 9, 13, 50], ids=lambda n: f"limit-{n}")
def test_feed_page_query_pages_match_a_plain_ordered_query(migrated_engine: Engine, limit: int) -> None:
    client_id, projects = _seed(migrated_engine)
    query = FeedPageQuery(migrated_engine.dialect.name)
    connections = ThreadConnections(migrated_engine)
    try:
        for scope in ([], projects[:1], projects):
            after_id = 0
            while True:
                page = query.read(
                    connections.get(), client_id=client_id, after_id=after_id, project_ids=scope, limit=limit
                )
                documents, has_more = _expected(
                    migrated_engine, client_id=client_id, after_id=after_id, projects=scope, limit=limit
                )
                events = orjson.loads(page.events_json)
                assert events == [orjson.loads(d) for d in documents]
                assert page.count == len(documents)
                assert page.last_id == (events[-1]["id"] if events else None)
                assert page.has_more is has_more
                if not page.has_more:
                    break
                assert page.last_id is not None
                after_id = page.last_id
    finally:
        connections.close()


def test_feed_page_query_on_a_new_connection_after_one_is_lost_reads_the_same_page(
    migrated_engine: Engine,
) -> None:
    client_id, projects = _seed(migrated_engine)
    query = FeedPageQuery(migrated_engine.dialect.name)
    connections = ThreadConnections(migrated_engine)
    try:
        first = query.read(connections.get(), client_id=client_id, after_id=0, project_ids=projects, limit=5)
        connections.drop()
        again = query.read(connections.get(), client_id=client_id, after_id=0, project_ids=projects, limit=5)
    finally:
        connections.close()

    assert again == first
