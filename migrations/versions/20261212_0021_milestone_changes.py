"""milestone_changes: a milestone's due date as observed to move between writes

Jira keeps no changelog for versions or sprints, so a release date moving was recorded nowhere.
Each write of milestones now compares the incoming due date with the stored one and keeps the
change; the ledger reads them as the milestone's moves. Nothing is known of moves before this.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.store.base

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "milestone_changes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("milestone_id", _ID, nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("from_value", sa.String(length=32), nullable=True),
        sa.Column("to_value", sa.String(length=32), nullable=True),
        sa.Column("observed_at", service.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_milestone_changes_milestone_id_milestones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_changes")),
        sa.UniqueConstraint(
            "milestone_id",
            "observed_at",
            "to_value",
            name=op.f("uq_milestone_changes_milestone_id_observed_at_to_value"),
        ),
    )


def downgrade() -> None:
    op.drop_table("milestone_changes")
