"""feed events name the item or milestone they are about; progress told over a filtered scope goes

An event is withdrawn from a client that no longer sees its item (or any member of its milestone),
so each event keeps the ids it is about. Events already stored get them from their dedupe keys,
which name them. Milestone progress used to be counted over every member item, whatever a client's
scope: those counts are dropped for clients whose scope of the project is filtered (the next
evaluation tells each its own count), since they told how much work the client is not shown.

Columns are added without rebuilding the table, which on SQLite would drop the trigger that stamps
each document with its id (migration 0007).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Dedupe keys that start with one of these go on with the id of what the event is about, then ':'.
_ITEM_KEYS = (
    "item_done:",
    "item_reopened:",
    "commitment_moved:item:",
    "commitment_met:item:",
    "commitment_missed:item:",
    "commitment_reopened:item:",
)
_MILESTONE_KEYS = ("milestone_progress:",)
# A risk's events name its flag: `risk_resolved:{flag}`, `risk_raised:{flag}:{when}`, and so on.
_RISK_KEYS = ("risk_resolved:", "risk_raised:", "risk_withdrawn:")


def _id_after(prefix: str, find: str) -> str:
    """SQL for the id between `prefix` and the next ':' of the dedupe key. Fixed SQL only."""
    rest = f"substr(dedupe_key, {len(prefix) + 1})"
    return f"CAST(substr({rest}, 1, {find}({rest}, ':') - 1) AS BIGINT)"


def _starts_with(prefix: str) -> str:
    return f"substr(dedupe_key, 1, {len(prefix)}) = '{prefix}'"


def upgrade() -> None:
    op.add_column("feed_events", sa.Column("item_id", _ID, nullable=True))
    op.add_column("feed_events", sa.Column("milestone_id", _ID, nullable=True))
    find = "strpos" if op.get_bind().dialect.name == "postgresql" else "instr"
    for column, prefixes in (("item_id", _ITEM_KEYS), ("milestone_id", _MILESTONE_KEYS)):
        for prefix in prefixes:
            op.execute(
                f"UPDATE feed_events SET {column} = {_id_after(prefix, find)} "  # noqa: S608 - fixed SQL
                f"WHERE {_starts_with(prefix)} AND {find}(substr(dedupe_key, {len(prefix) + 1}), ':') > 1"
            )
    for prefix in _RISK_KEYS:
        rest = f"substr(feed_events.dedupe_key, {len(prefix) + 1})"
        # The flag id runs to the next ':', or to the end of the key.
        flag_id = f"CAST(substr({rest}, 1, {find}({rest} || ':', ':') - 1) AS BIGINT)"
        op.execute(
            "UPDATE feed_events SET item_id = (SELECT flags.subject_id FROM flags "  # noqa: S608 - fixed SQL
            f"WHERE flags.subject = 'item' AND flags.id = {flag_id}) WHERE {_starts_with(prefix)}"
        )
    op.execute(
        "DELETE FROM feed_events WHERE kind = 'milestone_progress' AND EXISTS ("
        "SELECT 1 FROM client_scopes WHERE client_scopes.client_id = feed_events.client_id "
        "AND client_scopes.project_id = feed_events.project_id AND client_scopes.rule <> 'all')"
    )


def downgrade() -> None:
    op.drop_column("feed_events", "milestone_id")
    op.drop_column("feed_events", "item_id")
