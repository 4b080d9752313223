"""Migration 0016 keeps each stored item's provider `updated` stamp as its activity so far: staleness
stops reading the stamp, and no item may turn stale the moment the schema is upgraded."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from service.store.migrate import downgrade_schema, upgrade_schema
from service.store.orm import ActivityRow, ProjectRow, SourceRow, WorkItemRow

BEFORE_ACTIVITY = "0015"
UPDATED = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


def test_upgrade_dates_each_stored_items_activity_by_its_updated_stamp(migrated_engine: Engine) -> None:
    downgrade_schema(migrated_engine, revision=BEFORE_ACTIVITY)
    with migrated_engine.begin() as connection:
        source_id = connection.execute(
            insert(SourceRow.__table__).returning(SourceRow.__table__.c.id),  # type: ignore[arg-type]
            {
                "kind": "jira_cloud",
                "name": "acme",
                "base_url": "https://acme.atlassian.net",
                "credentials_encrypted": b"x",
                "settings": {},
                "created_at": UPDATED,
            },
        ).scalar_one()
        project_id = connection.execute(
            insert(ProjectRow.__table__).returning(ProjectRow.__table__.c.id),  # type: ignore[arg-type]
            {"source_id": source_id, "external_id": "10000", "key": "ACME", "name": "Acme", "settings": {}},
        ).scalar_one()
        item_id = connection.execute(
            insert(WorkItemRow.__table__).returning(WorkItemRow.__table__.c.id),  # type: ignore[arg-type]
            {
                "source_id": source_id,
                "project_id": project_id,
                "external_id": "20001",
                "key": "ACME-1",
                "title": "Checkout",
                "kind": "story",
                "status": "In Progress",
                "status_category": "in_progress",
                "priority": "medium",
                "labels": [],
                "components": [],
                "milestone_external_ids": [],
                "created_at": datetime(2026, 11, 1, tzinfo=UTC),
                "updated_at": UPDATED,
                "blocked": False,
                "visibility": "visible",
                "raw": {},
            },
        ).scalar_one()

    upgrade_schema(migrated_engine)

    with migrated_engine.connect() as connection:
        rows = connection.execute(
            select(
                ActivityRow.source_id,
                ActivityRow.item_id,
                ActivityRow.external_id,
                ActivityRow.kind,
                ActivityRow.created_at,
                ActivityRow.updated_at,
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (source_id, item_id, f"updated:{item_id}", "updated", UPDATED, UPDATED)
    ]
