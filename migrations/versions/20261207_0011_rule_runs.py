"""rule runs: dry runs asked through the API, run as jobs with their progress and result

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.store.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rule_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", _JSON, nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", service.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", service.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", service.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_runs")),
    )
    op.create_index("ix_rule_runs_status_created", "rule_runs", ["status", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rule_runs_status_created", table_name="rule_runs")
    op.drop_table("rule_runs")
