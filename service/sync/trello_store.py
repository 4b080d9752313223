"""A write the store's item upsert does not cover: board-derived fields of unchanged cards.

A card's status name, category and blocked flag also depend on its board (a list renamed, a list
mapped to another category, the blocked labels reconfigured) while the card's `dateLastActivity`,
which is its `updated_at`, stays the same; `upsert_work_items` rightly skips such a card. This
refreshes exactly those fields, and only where the stored row holds the very same payload version,
so it never regresses a row a newer write has touched.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.domain.enums import Visibility
from service.domain.work import WorkItem
from service.store.orm import WorkItemRow


def refresh_board_derived_fields(session: Session, *, source_id: int, items: Sequence[WorkItem]) -> list[int]:
    """Rewrite status, status category and blocked where only those differ; returns the item ids."""
    if not items:
        return []
    by_id = {item.external_id: item for item in items}
    rows = session.execute(
        select(
            WorkItemRow.id,
            WorkItemRow.external_id,
            WorkItemRow.updated_at,
            WorkItemRow.status,
            WorkItemRow.status_category,
            WorkItemRow.blocked,
        ).where(
            WorkItemRow.source_id == source_id,
            WorkItemRow.external_id.in_(list(by_id)),
            WorkItemRow.visibility == Visibility.VISIBLE.value,
        )
    )
    stale: list[dict[str, object]] = []
    ids: list[int] = []
    for row_id, external_id, updated_at, status, category, blocked in rows:
        item = by_id[external_id]
        if updated_at != item.updated_at:
            continue
        if (status, category, blocked) != (item.status, item.status_category.value, item.blocked):
            ids.append(row_id)
            stale.append(
                {
                    "id": row_id,
                    "status": item.status,
                    "status_category": item.status_category.value,
                    "blocked": item.blocked,
                }
            )
    if stale:
        # ORM bulk UPDATE by primary key: one prepared statement, executemany.
        session.execute(update(WorkItemRow), stale)
    return ids
