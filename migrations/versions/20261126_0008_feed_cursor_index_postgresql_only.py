"""feed cursor index on PostgreSQL only: on SQLite the page index already leads with its columns

`ix_feed_events_client_cursor (client_id, id)` repeats the first two columns of SQLite's covering
page index (0006), which serves every read the cursor index served, so on SQLite it only cost a
write per event. PostgreSQL has no page index and keeps it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_feed_events_client_cursor", table_name="feed_events")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_feed_events_client_cursor", "feed_events", ["client_id", "id"])
