"""Removing a source: no row of it is left in any table and no row of another source is touched (on
both databases), nothing it left can attach to the next source, and the flag comments it had
pushed say the item is no longer tracked wherever the source still answers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.http import RetryPolicy
from service.domain.enums import ItemKind, SourceKind, StatusCategory
from service.domain.work import Project, WorkItem
from service.errors import NotFoundError
from service.flags.push import drain_pushes
from service.flags.push_queue import queue_flag_push
from service.flags.push_text import NO_LONGER_TRACKED, UPDATES_ITSELF
from service.flags.removal import remove_source
from service.netcheck import ALLOW_PRIVATE_SETTING
from service.store.db import transaction
from service.store.items import upsert_work_items
from service.store.orm import (
    CommitmentRow,
    FeedbackRow,
    FeedEventRow,
    FlagRow,
    MilestoneRow,
    ProjectRow,
    SourceRow,
    WorkItemRow,
)
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.store.sources import add_source
from tests.support.flags import (
    NOW,
    add_flag,
    add_sandbox_items,
    as_flag,
    comment_text,
    flag_comments,
    sandbox_issues,
)
from tests.support.jira_sandbox import JiraSandbox
from tests.support.removal import Key, SourceWorld, add_shared_client, add_source_world, read_every_table
from tests.support.trello_sandbox import SandboxWithCommentEdits, TrelloSandbox, serve_trello_sandbox

FAST = RetryPolicy.without_waiting(max_retry_after=0.0)
ENABLED = {"enabled": True, "dry_run": False}
Tables = dict[str, dict[Key, dict[str, Any]]]


def _open_flag(store: Store, item_id: int) -> int:
    """An open flag on the item, queued for its comment."""
    with transaction(store.sessions) as session:
        flag = add_flag(session, subject_id=item_id)
        queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
        return flag.id


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _point_at_nothing(store: Store, world: SourceWorld) -> None:
    """The source's site stops answering: a loopback port nothing listens on, real credentials."""
    with transaction(store.sessions) as session:
        row = session.get(SourceRow, world.source_id)
        assert row is not None
        row.base_url = f"http://127.0.0.1:{_closed_port()}"
        row.settings = {ALLOW_PRIVATE_SETTING: True}
        row.credentials_encrypted = store.cipher.encrypt(json.dumps({"email": "a@b.c", "api_token": "t"}))


@pytest.fixture
def two_sources(dialect_store: Store) -> tuple[SourceWorld, SourceWorld]:
    with transaction(dialect_store.sessions) as session:
        client_id = add_shared_client(session)
        gone = add_source_world(session, name="gone", client_id=client_id, key="GONE")
        stays = add_source_world(session, name="stays", client_id=client_id, key="STAY")
    _point_at_nothing(dialect_store, gone)
    return gone, stays


def _read(store: Store) -> Tables:
    with store.sessions() as session:
        return read_every_table(session)


def test_remove_source_counts_every_table_before_and_after_and_leaves_nothing_of_it(
    dialect_store: Store, two_sources: tuple[SourceWorld, SourceWorld]
) -> None:
    gone, stays = two_sources
    before = _read(dialect_store)
    assert all(before[table] for table in before), "every table holds a row before the removal"

    removed = remove_source(dialect_store, source_id=gone.source_id, retry=FAST)

    after = _read(dialect_store)
    counts = {table: (len(before[table]), len(after[table])) for table in before}
    assert counts == {
        table: (len(rows), len(rows) - len(gone.owned.get(table, ()))) for table, rows in before.items()
    }
    for table, rows in before.items():
        assert set(after[table]) == set(rows) - gone.owned.get(table, set()), table
    changed = {
        (table, key)
        for table, rows in after.items()
        for key, row in rows.items()
        if row != before[table][key]
    }
    assert changed == {
        ("feed_events", (gone.kept_event,)),
        ("feedback", (gone.feedback_on_milestone,)),
        ("feedback", (gone.feedback_on_withdrawn_event,)),
    }
    assert removed.removal.flags == 3
    assert removed.comments.not_edited == 1
    assert removed.comments.edited == 0
    assert removed.comments.error is not None
    assert _dangling_references(dialect_store) == []
    assert stays.owned["work_items"] <= set(after["work_items"])


def _dangling_references(store: Store) -> list[str]:
    """References without a foreign key (a subject named by kind and id) to rows that do not exist."""
    found: list[str] = []
    with store.sessions() as session:
        subjects = {
            "item": set(session.scalars(select(WorkItemRow.id))),
            "milestone": set(session.scalars(select(MilestoneRow.id))),
            "project": set(session.scalars(select(ProjectRow.id))),
            "event": set(session.scalars(select(FeedEventRow.id))),
        }
        for model in (FlagRow, CommitmentRow, FeedbackRow):
            for row_id, subject, subject_id in session.execute(
                select(model.id, model.subject, model.subject_id)
            ):
                if subject_id is not None and subject in subjects and subject_id not in subjects[subject]:
                    found.append(f"{model.__tablename__} {row_id} -> {subject} {subject_id}")
        for event_id, payload in session.execute(select(FeedEventRow.id, FeedEventRow.payload)):
            flag_id = payload.get("flag_id")
            if flag_id is not None and session.get(FlagRow, flag_id) is None:
                found.append(f"feed_events {event_id} -> flag {flag_id}")
    return found


def _add_next_source(store: Store) -> list[int]:
    """Another source with a project and two items, stored the way a sync stores them."""
    with transaction(store.sessions) as session:
        source = add_source(
            session,
            cipher=store.cipher,
            kind=SourceKind.TRELLO,
            name="next",
            base_url="https://api.trello.com",
            credentials={"api_key": "k", "token": "t"},
            webhook_secret=None,
            now=NOW,
        )
        assert source.id is not None
        upsert_projects(
            session, projects=[Project(source_id=source.id, external_id="b1", key="tOTJiLzR", name="B")]
        )
        upsert_work_items(
            session,
            source_id=source.id,
            items=[
                WorkItem(
                    source_id=source.id,
                    project_external_id="b1",
                    external_id=f"card-{n}",
                    key=f"tOTJiLzR-{n}",
                    title=f"Card {n}",
                    kind=ItemKind.TASK,
                    status="Doing",
                    status_category=StatusCategory.IN_PROGRESS,
                    created_at=NOW,
                    updated_at=NOW,
                )
                for n in (11, 12)
            ],
        )
        return list(session.scalars(select(WorkItemRow.id).where(WorkItemRow.source_id == source.id)))


def test_next_source_after_a_removal_inherits_no_flag_or_commitment(dialect_store: Store) -> None:
    with transaction(dialect_store.sessions) as session:
        gone = add_source_world(session, name="gone", client_id=add_shared_client(session), key="ACB")
    _point_at_nothing(dialect_store, gone)
    remove_source(dialect_store, source_id=gone.source_id, retry=FAST)

    new_items = _add_next_source(dialect_store)

    assert min(new_items) > max(gone.item_ids)
    with dialect_store.sessions() as session:
        inherited_flags = session.scalars(
            select(FlagRow.id).where(FlagRow.subject == "item", FlagRow.subject_id.in_(new_items))
        ).all()
        inherited_commitments = session.scalars(
            select(CommitmentRow.id).where(
                CommitmentRow.subject == "item", CommitmentRow.subject_id.in_(new_items)
            )
        ).all()
        leftover_flags = session.scalars(select(FlagRow.id).where(FlagRow.id.in_(gone.flag_ids))).all()
    assert (inherited_flags, inherited_commitments, leftover_flags) == ([], [], [])


def test_remove_source_unknown_id_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        remove_source(store, source_id=4242)


def test_remove_source_marks_its_pushed_jira_comments_no_longer_tracked(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    items = add_sandbox_items(
        store, source_id=jira_source_id, issues=sandbox_issues(jira_sandbox, 3), push=ENABLED
    )
    flags = [_open_flag(store, item) for item in items]
    assert drain_pushes(store, now=NOW, retry=FAST).created == 3
    [deleted] = flag_comments(jira_sandbox, flags[2])
    world = jira_sandbox.sandbox.jira
    with world.lock:
        world.delete_comment(deleted)

    removed = remove_source(store, source_id=jira_source_id, retry=FAST)

    assert (removed.comments.edited, removed.comments.gone, removed.comments.not_edited) == (2, 1, 0)
    for flag_id in flags[:2]:
        [comment] = flag_comments(jira_sandbox, flag_id)
        text = comment_text(comment)
        assert text.startswith("No longer tracked: " + NO_LONGER_TRACKED)
        assert "Risk (critical): Item is 3 day(s) past" in text
        assert UPDATES_ITSELF not in text


@pytest.fixture
def trello() -> Iterator[TrelloSandbox]:
    with serve_trello_sandbox("tiny", seed=7) as sandbox:
        yield sandbox


def test_remove_source_marks_its_pushed_trello_comments_no_longer_tracked(
    store: Store, trello: TrelloSandbox
) -> None:
    source_id = trello.add_source(store)
    world = trello.world
    with world.lock:
        card = next(
            c
            for c in world.cards.values()
            if not any(a.type == "commentCard" for a in world.card_actions.get(c.id, []))
        )
        key = f"{world.boards[card.id_board].short_link}-{card.id_short}"
    [item_id] = add_sandbox_items(store, source_id=source_id, issues=[(key, card.id)], push=ENABLED)
    flag_id = _open_flag(store, item_id)
    transport = SandboxWithCommentEdits(world)
    assert drain_pushes(store, now=NOW, transport=transport, retry=FAST).created == 1

    removed = remove_source(store, source_id=source_id, transport=transport, retry=FAST)

    assert removed.comments.edited == 1
    with world.lock:
        [text] = [str(a.data["text"]) for a in world.card_actions.get(card.id, []) if a.type == "commentCard"]
    assert text.startswith("No longer tracked: ")
    assert text.splitlines()[-1] == f"pmbridge-flag:{flag_id}"


def test_remove_source_that_does_not_answer_removes_it_and_says_why_comments_stayed(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    items = add_sandbox_items(
        store, source_id=jira_source_id, issues=sandbox_issues(jira_sandbox, 2), push=ENABLED
    )
    flags = [_open_flag(store, item) for item in items]
    drain_pushes(store, now=NOW, retry=FAST)
    with transaction(store.sessions) as session:
        row = session.get(SourceRow, jira_source_id)
        assert row is not None
        row.base_url = f"http://127.0.0.1:{_closed_port()}"
    started = datetime.now(UTC)

    removed = remove_source(store, source_id=jira_source_id, retry=FAST)

    assert (removed.comments.edited, removed.comments.not_edited) == (0, 2)
    assert removed.comments.error is not None and "ConnectError" in removed.comments.error
    assert (datetime.now(UTC) - started).total_seconds() < 10
    with store.sessions() as session:
        assert session.get(SourceRow, jira_source_id) is None
        assert _count(session, FlagRow, flags) == 0
    assert all(UPDATES_ITSELF in comment_text(c) for f in flags for c in flag_comments(jira_sandbox, f))


def _count(session: Session, model: type[FlagRow], ids: list[int]) -> int:
    return len(session.scalars(select(model.id).where(model.id.in_(ids))).all())
