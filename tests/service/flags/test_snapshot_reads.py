"""A project's snapshot from the fast reads equals the one built from the ORM reads, on a sandbox
agency synced the way pmbridge syncs it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from service.domain.enums import SourceKind
from service.flags.facts import load_project_snapshot
from service.store.crypto import CredentialCipher
from service.store.db import build_engine, build_session_factory
from service.store.migrate import upgrade_schema
from service.store.orm import ProjectRow
from service.store.runtime import Store
from service.store.work_scan import read_item_changes, read_project_items, read_project_milestones
from service.sync.runs import sync_source_now
from tests.service.store.orm_reads import (
    orm_item_changes,
    orm_project_items,
    orm_project_milestones,
    orm_snapshot,
)
from tests.support.jira_sandbox import serve_jira_sandbox
from tests.support.sources import add_test_source

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def synced_store(database_url: str) -> Iterator[Store]:
    """The sandbox's small agency (6 projects of 250 issues with their changelogs), synced in full."""
    engine = build_engine(database_url)
    upgrade_schema(engine)
    store = Store(
        engine=engine,
        sessions=build_session_factory(engine),
        cipher=CredentialCipher([Fernet.generate_key()]),
    )
    try:
        with serve_jira_sandbox("small", seed=11) as jira:
            sandbox = jira.sandbox
            source_id = add_test_source(
                store,
                kind=SourceKind.JIRA_CLOUD,
                name="sandbox-jira",
                webhook_secret=sandbox.jira_webhook_secret,
                base_url=jira.base_url,
                credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
            )
            sync_source_now(store, source_id=source_id, full=True)
        yield store
    finally:
        store.close()


def test_snapshots_and_reads_of_a_synced_agency_are_the_orm_ones(synced_store: Store) -> None:
    with synced_store.sessions() as session:
        project_ids = list(session.scalars(select(ProjectRow.id).order_by(ProjectRow.id)))
        assert len(project_ids) == 6
        for project_id in project_ids:
            items = orm_project_items(session, project_id=project_id)
            ids = [item.id for item in items if item.id is not None]
            changes = orm_item_changes(session, item_ids=ids)
            assert len(items) == 250
            assert changes

            assert read_project_items(session, project_id=project_id) == items
            assert read_item_changes(session, item_ids=ids) == changes
            assert read_project_milestones(session, project_id=project_id) == orm_project_milestones(
                session, project_id=project_id
            )
            assert load_project_snapshot(session, project_id=project_id, now=NOW) == orm_snapshot(
                session, project_id=project_id, now=NOW
            )
