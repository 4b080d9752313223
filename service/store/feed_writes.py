"""Writing client feed events: at most one per (client, dedupe key), so producers may repeat.

Writers take `lock_feed_writes` first, so events become visible in id order (the feed's order).
The feed's reads are in `feed_queries`; `count_feed_events` only sums up what was written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from service.domain.signals import EventDraft
from service.store.client_views import read_grants, visible_items
from service.store.dialect import upsert_insert
from service.store.orm import ClientRow, ClientScopeRow, FeedEventRow, WorkItemRow


def list_client_ids_of_project(session: Session, *, project_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ClientScopeRow.client_id).where(ClientScopeRow.project_id == project_id).distinct()
        )
    )


def publish_events(session: Session, *, drafts: Sequence[EventDraft], now: datetime) -> int:
    """Fan drafts out to every client whose scope covers them; returns how many rows were new."""
    if not drafts:
        return 0
    rows: list[dict[str, Any]] = []
    for project_id in {d.project_id for d in drafts}:
        project_drafts = [d for d in drafts if d.project_id == project_id]
        item_ids = {d.item_id for d in project_drafts if d.item_id is not None}
        for client_id in list_client_ids_of_project(session, project_id=project_id):
            seen = _visible_item_ids(session, client_id=client_id, item_ids=item_ids)
            rows += [
                {
                    "client_id": client_id,
                    "project_id": project_id,
                    "kind": d.kind.value,
                    "dedupe_key": d.dedupe_key,
                    "summary": d.summary,
                    "payload": d.payload,
                    "occurred_at": d.occurred_at,
                    "created_at": now,
                }
                for d in project_drafts
                if d.item_id is None or d.item_id in seen
            ]
    if not rows:
        return 0
    stmt = (
        upsert_insert(session, FeedEventRow)
        .on_conflict_do_nothing(index_elements=["client_id", "dedupe_key"])
        .returning(FeedEventRow.id)
    )
    return len(session.execute(stmt, rows).all())


def _visible_item_ids(session: Session, *, client_id: int, item_ids: Iterable[int]) -> set[int]:
    ids = list(item_ids)
    if not ids:
        return set()
    grants = read_grants(session, client_id=client_id)
    return set(
        session.scalars(select(WorkItemRow.id).where(WorkItemRow.id.in_(ids), visible_items(session, grants)))
    )


def list_client_names_of_project(session: Session, *, project_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ClientRow.name)
            .join(ClientScopeRow, ClientScopeRow.client_id == ClientRow.id)
            .where(ClientScopeRow.project_id == project_id)
            .order_by(ClientRow.name)
        )
    )


def count_feed_events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(FeedEventRow)) or 0)


# Any constant of pmbridge's own, so writers of feed events queue behind each other on PostgreSQL.
_FEED_WRITE_LOCK_KEY = 0x706D62_66656564  # "pmb" "feed"


def lock_feed_writes(session: Session) -> None:
    """Take, until the transaction ends, the lock every writer of feed events holds while it writes.

    The feed is read by id (the cursor: `/v1/feed?after=`, subscriptions), so an event must never
    become visible after a reader has passed its id. PostgreSQL draws ids from a sequence as rows
    are inserted, and concurrent transactions commit in any order: without this lock an evaluation
    that drew id 10 could commit after one that drew id 11 was read, and id 10 would never be seen.
    SQLite lets one transaction write at a time, so its ids already commit in order.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_WRITE_LOCK_KEY})
