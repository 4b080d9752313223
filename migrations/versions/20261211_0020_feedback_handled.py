"""feedback: when an operator handled it, and who

Client feedback was read by no one at the agency. The operator now lists it (`GET
/admin/feedback`, `pmbridge feedback list`) and marks what has been followed up; feedback stored
before stays unhandled.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-11
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.store.base

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handled_at", service.store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("handled_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("handled_by")
        batch_op.drop_column("handled_at")
