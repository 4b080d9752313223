"""flag push state: the provider comment of a flag and the fingerprint it shows

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.store.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pushed_comment_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pushed_fingerprint", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("pushed_at", service.store.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_column("pushed_at")
        batch_op.drop_column("pushed_fingerprint")
        batch_op.drop_column("pushed_comment_id")
