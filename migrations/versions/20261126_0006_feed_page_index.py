"""feed page index: a client's events with their documents, in cursor order (SQLite)

A feed page read from this index alone touches a few contiguous pages instead of one table page
per event (the table's rows interleave every client's events). SQLite only: PostgreSQL caps an
index row at ~2.7 KB, which a long event document could pass.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(
            "ix_feed_events_client_page", "feed_events", ["client_id", "id", "project_id", "document"]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_feed_events_client_page", table_name="feed_events")
