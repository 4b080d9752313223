"""Sync leases: at most one holder per source; an expired lease may be taken over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from service.store.dialect import upsert_insert
from service.store.orm import SyncLeaseRow


def acquire_lease(session: Session, *, source_id: int, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take the source's lease when it is free, expired or already ours; False when another holds it."""
    insert = upsert_insert(session, SyncLeaseRow).values(
        source_id=source_id, owner=owner, acquired_at=now, expires_at=now + ttl
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["source_id"],
        set_={"owner": owner, "acquired_at": now, "expires_at": now + ttl},
        where=(SyncLeaseRow.expires_at < now) | (SyncLeaseRow.owner == owner),
    ).returning(SyncLeaseRow.owner)
    return session.execute(stmt).scalar_one_or_none() == owner


def renew_lease(session: Session, *, source_id: int, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Extend our lease; False when it was lost (expired and taken over)."""
    result = session.execute(
        update(SyncLeaseRow)
        .where(SyncLeaseRow.source_id == source_id, SyncLeaseRow.owner == owner)
        .values(expires_at=now + ttl)
        .returning(SyncLeaseRow.source_id)
    )
    return result.scalar_one_or_none() is not None


def release_lease(session: Session, *, source_id: int, owner: str) -> None:
    session.execute(
        delete(SyncLeaseRow).where(SyncLeaseRow.source_id == source_id, SyncLeaseRow.owner == owner)
    )
