"""Removing a source deletes what hangs off it and nothing else, counted before it is done, and
treats the clients' history as docs/ARCHITECTURE.md says (on both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

import orjson
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.errors import NotFoundError
from service.store.orm import FeedbackRow, FeedEventRow
from service.store.source_removal import count_source_removal, delete_source
from tests.support.removal import SourceWorld, add_shared_client, add_source_world, read_every_table


@pytest.fixture
def session(migrated_engine: Engine) -> Iterator[Session]:
    """A session on a migrated database of each dialect: the trigger that stamps a feed event's
    document with its id is the migrations' (the shared test databases are the ORM's tables)."""
    with Session(migrated_engine, autoflush=False, expire_on_commit=False) as opened:
        yield opened


@pytest.fixture
def worlds(session: Session) -> tuple[SourceWorld, SourceWorld]:
    client_id = add_shared_client(session)
    return (
        add_source_world(session, name="gone", client_id=client_id, key="GONE"),
        add_source_world(session, name="stays", client_id=client_id, key="STAY"),
    )


def test_count_source_removal_is_what_delete_source_then_deletes(
    session: Session, worlds: tuple[SourceWorld, SourceWorld]
) -> None:
    gone, _ = worlds
    before = read_every_table(session)

    preview = count_source_removal(session, source_id=gone.source_id)
    removed = delete_source(session, source_id=gone.source_id)

    after = read_every_table(session)
    assert removed == preview
    deleted_by_table = {name: len(before[name]) - len(after[name]) for name in before}
    assert deleted_by_table == {name: len(gone.owned.get(name, ())) for name in before}
    assert asdict(removed) == {
        "source_id": gone.source_id,
        "name": "gone",
        "projects": 2,
        "items": 3,
        "milestones": 1,
        "milestone_changes": 1,
        "item_milestones": 1,
        "changes": 1,
        "worklogs": 1,
        "persons": 1,
        "commitments": 2,
        "commitment_moves": 1,
        "flags": 3,
        "pushed_comments": 1,
        "outbox": 1,
        "client_scopes": 1,
        "sync_cursors": 1,
        "sync_runs": 1,
        "sync_leases": 1,
        "webhook_deliveries": 1,
        "activity": 1,
        "feed_events_withdrawn": 1,
        "feed_events_kept": 1,
        "feedback_unlinked": 2,
    }


def test_count_source_removal_deletes_nothing(
    session: Session, worlds: tuple[SourceWorld, SourceWorld]
) -> None:
    before = read_every_table(session)

    count_source_removal(session, source_id=worlds[0].source_id)

    assert read_every_table(session) == before


def test_kept_event_loses_its_links_in_columns_and_served_document(
    session: Session, worlds: tuple[SourceWorld, SourceWorld]
) -> None:
    gone, _ = worlds
    summary, stored = session.execute(
        select(FeedEventRow.summary, FeedEventRow.document).where(FeedEventRow.id == gone.kept_event)
    ).one()
    document = orjson.loads(stored)
    assert document["id"] == gone.kept_event

    delete_source(session, source_id=gone.source_id)

    kept = session.get(FeedEventRow, gone.kept_event)
    assert kept is not None
    assert (kept.project_id, kept.item_id, kept.milestone_id, kept.summary, kept.payload) == (
        None,
        None,
        None,
        summary,
        {"flag_id": None, "text": "GONE may slip"},
    )
    assert orjson.loads(kept.document) == {**document, "project_id": None, "payload": kept.payload}
    assert list(orjson.loads(kept.document)) == [
        "id",
        "kind",
        "project_id",
        "summary",
        "payload",
        "occurred_at",
        "recorded_at",
    ]


def test_event_the_client_no_longer_sees_is_withdrawn(
    session: Session, worlds: tuple[SourceWorld, SourceWorld]
) -> None:
    gone, _ = worlds

    delete_source(session, source_id=gone.source_id)

    assert session.get(FeedEventRow, gone.withdrawn_event) is None


def test_feedback_stays_and_loses_only_subjects_that_are_gone(
    session: Session, worlds: tuple[SourceWorld, SourceWorld]
) -> None:
    gone, _ = worlds

    delete_source(session, source_id=gone.source_id)

    subjects = dict(
        session.execute(
            select(FeedbackRow.id, FeedbackRow.subject_id).where(
                FeedbackRow.id.in_(
                    [
                        gone.feedback_on_milestone,
                        gone.feedback_on_withdrawn_event,
                        gone.feedback_on_kept_event,
                    ]
                )
            )
        ).all()
    )
    assert subjects == {
        gone.feedback_on_milestone: None,
        gone.feedback_on_withdrawn_event: None,
        gone.feedback_on_kept_event: gone.kept_event,
    }


def test_delete_source_unknown_id_is_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError):
        delete_source(session, source_id=987_654)
    with pytest.raises(NotFoundError):
        count_source_removal(session, source_id=987_654)
