"""Portal sessions: one row per signed-in browser, named by the SHA-256 of the secret its cookie
holds. The cookie names no token, client or id, so nothing it says can come to mean another
client's session; signing out deletes the row, and a token's rows go with its revocation or
deletion (ON DELETE CASCADE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.store.orm import PortalSessionRow


@dataclass(frozen=True, slots=True)
class StoredPortalSession:
    token_id: int
    expires_at: datetime


def add_portal_session(
    session: Session, *, secret_hash: str, token_id: int, now: datetime, expires_at: datetime
) -> None:
    """Store a new session; sessions past their expiry are dropped at the same time."""
    session.execute(delete(PortalSessionRow).where(PortalSessionRow.expires_at <= now))
    session.add(
        PortalSessionRow(secret_hash=secret_hash, token_id=token_id, created_at=now, expires_at=expires_at)
    )
    session.flush()


def find_portal_session(session: Session, *, secret_hash: str, now: datetime) -> StoredPortalSession | None:
    """The session of this secret's hash, unless it has expired or was ended."""
    row = session.execute(
        select(PortalSessionRow.token_id, PortalSessionRow.expires_at).where(
            PortalSessionRow.secret_hash == secret_hash, PortalSessionRow.expires_at > now
        )
    ).first()
    return None if row is None else StoredPortalSession(token_id=row.token_id, expires_at=row.expires_at)


def remove_portal_session(session: Session, *, secret_hash: str) -> None:
    session.execute(delete(PortalSessionRow).where(PortalSessionRow.secret_hash == secret_hash))


def remove_portal_sessions_of_token(session: Session, *, token_id: int) -> int:
    """End every portal session opened with this token; returns how many there were."""
    result = session.execute(delete(PortalSessionRow).where(PortalSessionRow.token_id == token_id))
    return int(getattr(result, "rowcount", 0) or 0)
