"""Migration 0017: Trello cards already stored in a done list get their done time (their last move,
else their last update); nothing else changes; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.domain.enums import ItemKind, SourceKind, StatusCategory
from service.domain.work import Change, Project, WorkItem
from service.store.crypto import CredentialCipher
from service.store.db import build_engine
from service.store.items import upsert_work_items
from service.store.migrate import upgrade_schema
from service.store.orm import WorkItemRow
from service.store.projects import upsert_projects
from service.store.sources import add_source

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
MOVED = NOW - timedelta(days=3)


def _item(source_id: int, external_id: str, category: StatusCategory) -> WorkItem:
    return WorkItem(
        source_id=source_id,
        project_external_id="B",
        external_id=external_id,
        key=f"B-{external_id}",
        title=external_id,
        kind=ItemKind.CARD,
        status="Done" if category is StatusCategory.DONE else "Doing",
        status_category=category,
        created_at=NOW - timedelta(days=10),
        updated_at=NOW - timedelta(days=1),
    )


def _seed(engine: Engine) -> None:
    """A Trello board with a card moved to Done, one done with no recorded move, one in progress;
    and a Jira issue done with no resolution date, which the migration leaves alone."""
    cipher = CredentialCipher([Fernet.generate_key()])
    with Session(engine) as session, session.begin():
        for kind, name, base_url, credentials in (
            (SourceKind.TRELLO, "board", "https://api.trello.com", {"api_key": "k", "token": "t"}),
            (
                SourceKind.JIRA_CLOUD,
                "site",
                "https://acme.atlassian.net",
                {"email": "a@b.c", "api_token": "t"},
            ),
        ):
            source = add_source(
                session,
                cipher=cipher,
                kind=kind,
                name=name,
                base_url=base_url,
                credentials=credentials,
                webhook_secret=None,
                now=NOW,
            )
            assert source.id is not None
            upsert_projects(
                session, projects=[Project(source_id=source.id, external_id="B", key="B", name="B")]
            )
            prefix = kind.value
            upsert_work_items(
                session,
                source_id=source.id,
                items=[
                    _item(source.id, f"{prefix}-moved", StatusCategory.DONE),
                    _item(source.id, f"{prefix}-unmoved", StatusCategory.DONE),
                    _item(source.id, f"{prefix}-doing", StatusCategory.IN_PROGRESS),
                ],
                changes=[
                    Change(
                        source_id=source.id,
                        item_external_id=f"{prefix}-moved",
                        external_id=f"{prefix}-move",
                        field="status",
                        from_value="doing",
                        to_value="done",
                        changed_at=MOVED,
                    )
                ],
            )


def _done_times(engine: Engine) -> dict[str, datetime | None]:
    with Session(engine) as session:
        return {
            key: done
            for key, done in session.execute(select(WorkItemRow.external_id, WorkItemRow.resolved_at))
        }


def test_migration_0017_dates_trello_cards_in_a_done_list_only(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade_schema(engine, revision="0016")
        _seed(engine)
        assert set(_done_times(engine).values()) == {None}

        upgrade_schema(engine)

        assert _done_times(engine) == {
            "trello-moved": MOVED,
            "trello-unmoved": NOW - timedelta(days=1),
            "trello-doing": None,
            "jira_cloud-moved": None,
            "jira_cloud-unmoved": None,
            "jira_cloud-doing": None,
        }
    finally:
        engine.dispose()
