"""worklogs: time logged on items, synced incrementally from Jira's worklog feeds

One row per Jira worklog, keyed by source and worklog id, with its item, start, seconds spent and
last update. Cost KPIs read it: the burn rate from the worklogs started in the last four weeks, and
an item's time spent from its worklogs where it has any. The table is AUTOINCREMENT on SQLite, so a
deleted worklog's id is never handed out again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.store.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "worklogs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("source_id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", service.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("spent_seconds", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", service.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["work_items.id"], name=op.f("fk_worklogs_item_id_work_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_worklogs_source_id_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worklogs")),
        sa.UniqueConstraint("source_id", "external_id", name=op.f("uq_worklogs_source_id_external_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_worklogs_item_started", "worklogs", ["item_id", "started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_worklogs_item_started", table_name="worklogs")
    op.drop_table("worklogs")
