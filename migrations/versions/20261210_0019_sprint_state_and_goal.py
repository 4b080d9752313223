"""sprints: their instant of start, state and goal

A sprint's start was kept as a day, so an item added an hour before a sprint started counted as
added after it; its state (future, active, closed) and goal were not kept at all. The sync reads
them from the boards' sprints (`GET /rest/agile/1.0/board/{id}/sprint`); other milestones leave
them empty, and sprints stored before get them at their next sync.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.store.base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("started_at", service.store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("goal", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_column("goal")
        batch_op.drop_column("state")
        batch_op.drop_column("started_at")
