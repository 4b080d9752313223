"""feed event documents: each event's client-facing JSON, stored when it is written

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same object `service.store.orm_signals.event_document` renders, for the rows already there.
_BACKFILL = {
    "sqlite": (
        "json_object('kind', kind, 'project_id', project_id, 'summary', summary, "
        "'payload', json(payload), 'occurred_at', replace(occurred_at, ' ', 'T') || '+00:00')"
    ),
    "postgresql": (
        "json_build_object('kind', kind, 'project_id', project_id, 'summary', summary, "
        "'payload', payload, 'occurred_at', "
        """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))::text"""
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("feed_events") as batch:
        batch.add_column(sa.Column("document", sa.Text(), nullable=True))
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE feed_events SET document = {_BACKFILL[dialect]}")  # noqa: S608 - fixed SQL
    with op.batch_alter_table("feed_events") as batch:
        batch.alter_column("document", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("feed_events") as batch:
        batch.drop_column("document")
