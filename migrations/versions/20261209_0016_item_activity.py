"""item_activity: signs of work that change no field (comments, Trello card actions), never text

One row per comment (Jira, Trello) and per Trello card action that shows work without changing a
field the model keeps (checklists, members, creation, attachments, other edits): the item, the
kind, who, and when. A comment's text is never stored. Staleness counts these with the item's
changes and creation, and no longer the provider's `updated` stamp, which pmbridge's own flag
comments move too.

Until this revision an item's provider `updated` stamp counted as its last activity. So that no
item turns stale on upgrade, each stored item gets one row (kind `updated`) dated that stamp; the
syncs add real activity from then on. Ids stay inside the database: no AUTOINCREMENT.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.store.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LEGACY_PREFIX = "updated:"


def upgrade() -> None:
    op.create_table(
        "item_activity",
        sa.Column("id", _ID, nullable=False),
        sa.Column("source_id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("created_at", service.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["work_items.id"],
            name=op.f("fk_item_activity_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_item_activity_source_id_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_activity")),
        sa.UniqueConstraint("source_id", "external_id", name=op.f("uq_item_activity_source_id_external_id")),
    )
    op.create_index("ix_item_activity_item_updated", "item_activity", ["item_id", "updated_at"], unique=False)
    key = (
        "'"
        + _LEGACY_PREFIX
        + "' || "
        + ("CAST(id AS TEXT)" if op.get_bind().dialect.name == "sqlite" else "id::text")
    )
    op.execute(
        "INSERT INTO item_activity (source_id, item_id, external_id, kind, author, created_at, updated_at) "  # noqa: S608
        f"SELECT source_id, id, {key}, 'updated', NULL, updated_at, updated_at FROM work_items"
    )


def downgrade() -> None:
    op.drop_index("ix_item_activity_item_updated", table_name="item_activity")
    op.drop_table("item_activity")
