"""feed event documents carry recorded_at: when pmbridge published the event, beside when it happened

The feed is ordered by id, the order pmbridge published its events in; `occurred_at` is when a
change happened at its source, which for a change learned late (a back-filling sync) is days
before the events around it. `recorded_at` (the stored `created_at`) is the time that order
follows, so a client sees both. The writer adds it to new documents; this adds it to stored ones.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ',"recorded_at":"'
# The key, an ISO 8601 time in UTC with microseconds (32 characters), and the quote and brace.
_TAIL = len(_KEY) + 32 + 2
_HAS_TAIL = f"substr(document, length(document) - {_TAIL - 1}, {len(_KEY)}) = '{_KEY}'"
# `created_at` as `service.store.orm_signals.event_document` renders it.
_RECORDED = {
    "sqlite": "replace(created_at, ' ', 'T') || '+00:00'",
    "postgresql": """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')""",
}


def upgrade() -> None:
    recorded = _RECORDED[op.get_bind().dialect.name]
    # Idempotent: a document that already ends with its recorded_at is left alone.
    op.execute(
        f"UPDATE feed_events SET document = substr(document, 1, length(document) - 1) "  # noqa: S608 - fixed SQL
        f"|| '{_KEY}' || {recorded} || '\"}}' WHERE NOT ({_HAS_TAIL})"
    )


def downgrade() -> None:
    op.execute(
        f"UPDATE feed_events SET document = substr(document, 1, length(document) - {_TAIL}) || '}}' "  # noqa: S608
        f"WHERE {_HAS_TAIL}"
    )
