"""Trello cards in a done list get a done time: their last move, else their last update

A Trello card is done by being in a done list, and Trello records no resolution time, so
`resolved_at` stayed empty: the burn-up, throughput, cycle time and the digest's done items left
Trello cards out while the feed told them done. The sync now dates them
(`service.store.items.stamp_done_times`); this dates the cards already stored the same way, so
the views agree from the upgrade on rather than from each card's next change. Downgrade leaves
the dates: the older version reads them as a Jira resolution date, which is what they mean.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE work_items SET resolved_at = COALESCE("
        "(SELECT max(changes.changed_at) FROM changes"
        " WHERE changes.item_id = work_items.id AND changes.field = 'status'),"
        " work_items.updated_at) "
        "WHERE work_items.status_category = 'done' AND work_items.resolved_at IS NULL"
        " AND work_items.source_id IN (SELECT id FROM sources WHERE kind = 'trello')"
    )


def downgrade() -> None:
    pass
