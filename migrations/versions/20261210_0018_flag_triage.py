"""flag triage and history: acknowledged, snoozed or dismissed flags, each flag's life step by step

An operator acknowledges a flag (it is right), snoozes it until a date, or dismisses it with a
reason for the evidence it had (`dismissed_fingerprint`); the flag keeps who and when.
`comment_created_at` dates a flag's first comment, which a project's daily push-back budget
counts: flags pushed before this revision are dated by their last push. `flag_history` holds
each flag's life (raised, evidence changed, resolved, reopened, triaged, published or not); the
flags stored before it get their `raised` and `resolved` steps from their own dates. Its ids stay
inside the database: no AUTOINCREMENT.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.store.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = service.store.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment_created_at", _WHEN, nullable=True))
        batch_op.add_column(sa.Column("triage", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("triage_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("triaged_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("triaged_at", _WHEN, nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", _WHEN, nullable=True))
        batch_op.add_column(sa.Column("dismissed_fingerprint", sa.String(length=64), nullable=True))
    op.execute("UPDATE flags SET comment_created_at = pushed_at WHERE pushed_comment_id IS NOT NULL")
    op.create_table(
        "flag_history",
        sa.Column("id", _ID, nullable=False),
        sa.Column("flag_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("by", sa.String(length=200), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["flags.id"], name=op.f("fk_flag_history_flag_id_flags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_history")),
    )
    op.create_index("ix_flag_history_flag", "flag_history", ["flag_id", "id"], unique=False)
    op.execute(
        "INSERT INTO flag_history (flag_id, kind, at, by, detail) "
        "SELECT id, 'raised', first_seen_at, NULL, '{}' FROM flags ORDER BY id"
    )
    op.execute(
        "INSERT INTO flag_history (flag_id, kind, at, by, detail) "
        "SELECT id, 'resolved', resolved_at, NULL, '{}' FROM flags "
        "WHERE state = 'resolved' AND resolved_at IS NOT NULL ORDER BY id"
    )


def downgrade() -> None:
    op.drop_index("ix_flag_history_flag", table_name="flag_history")
    op.drop_table("flag_history")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_column("dismissed_fingerprint")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("triaged_at")
        batch_op.drop_column("triaged_by")
        batch_op.drop_column("triage_reason")
        batch_op.drop_column("triage")
        batch_op.drop_column("comment_created_at")
