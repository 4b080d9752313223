"""Writing client feed events: at most one per (client, dedupe key), so producers may repeat.

The feed's reads are in `feed_queries`; `count_feed_events` only sums up what was written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
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
