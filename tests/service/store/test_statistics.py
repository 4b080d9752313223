"""PostgreSQL's statistics follow a table a bulk sync fills, so its lookups keep using the unique index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from service.domain.enums import SourceKind
from service.domain.work import Project
from service.store.crypto import CredentialCipher
from service.store.db import build_engine
from service.store.dialect import ANALYZE_AFTER_ROWS, analyze_if_outgrown
from service.store.items import upsert_work_items
from service.store.migrate import upgrade_schema
from service.store.orm import WorkItemRow
from service.store.projects import upsert_projects
from service.store.sources import add_source
from tests.service.store.conftest import NOW
from tests.service.store.test_items import make_item


@pytest.fixture
def connection(database_url: str) -> Iterator[Connection]:
    """One connection throughout, so PostgreSQL's activity counters are this backend's own."""
    engine = build_engine(database_url)
    upgrade_schema(engine)
    with engine.connect() as opened:
        yield opened
    engine.dispose()


def _source(session: Session) -> int:
    source = add_source(
        session,
        cipher=CredentialCipher([Fernet.generate_key()]),
        kind=SourceKind.JIRA_CLOUD,
        name="acme",
        base_url="https://acme.atlassian.net",
        credentials={"email": "ops@example.com", "api_token": "t"},
        webhook_secret=None,
        now=NOW,
    )
    assert source.id is not None
    project = Project(source_id=source.id, external_id="10000", key="ACME", name="Acme")
    upsert_projects(session, projects=[project])
    return source.id


def _flush_activity(connection: Connection) -> None:
    """PostgreSQL reports a backend's row counts at most once a second unless asked."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_stat_force_next_flush()"))
        connection.commit()


def test_a_bulk_write_analyzes_a_table_that_outgrew_its_statistics(connection: Connection) -> None:
    session = Session(bind=connection)
    source_id = _source(session)
    session.commit()
    batch = [make_item(source_id, n) for n in range(ANALYZE_AFTER_ROWS + 200)]

    upsert_work_items(session, source_id=source_id, items=batch)
    session.commit()
    _flush_activity(connection)
    analyzed = analyze_if_outgrown(session, WorkItemRow)
    session.commit()
    _flush_activity(connection)
    again = analyze_if_outgrown(session, WorkItemRow)
    session.commit()

    if connection.dialect.name == "sqlite":
        assert (analyzed, again) == (False, False)
        return
    assert (analyzed, again) == (True, False)  # nothing changed since the analysis
    plan = "\n".join(
        row[0]
        for row in connection.execute(
            text(
                "EXPLAIN SELECT id FROM work_items WHERE source_id = :source "
                "AND external_id IN ('20001', '20002', '20003')"
            ),
            {"source": source_id},
        )
    )
    assert "uq_work_items_source_id_external_id" in plan
