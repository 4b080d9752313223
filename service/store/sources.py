"""Connected sources; their credentials are encrypted here and decrypted only on request. Removing
one, with everything of it, is `source_removal`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.domain.enums import SourceKind
from service.domain.work import Source
from service.errors import ConflictError, NotFoundError
from service.store.crypto import CredentialCipher
from service.store.orm import SourceRow


def _source_from_row(row: SourceRow) -> Source:
    return Source(
        id=row.id,
        kind=SourceKind(row.kind),
        name=row.name,
        base_url=row.base_url,
        settings=dict(row.settings),
        last_synced_at=row.last_synced_at,
    )


def add_source(
    session: Session,
    *,
    cipher: CredentialCipher,
    kind: SourceKind,
    name: str,
    base_url: str,
    credentials: dict[str, str],
    webhook_secret: str | None,
    settings: dict[str, Any] | None = None,
    now: datetime,
) -> Source:
    row = SourceRow(
        kind=kind.value,
        name=name,
        base_url=base_url,
        credentials_encrypted=cipher.encrypt(json.dumps(credentials)),
        webhook_secret_encrypted=cipher.encrypt(webhook_secret) if webhook_secret else None,
        settings=settings or {},
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"a source named {name!r} exists already", details={"name": name}) from exc
    return _source_from_row(row)


def find_source(session: Session, *, source_id: int) -> Source | None:
    row = session.get(SourceRow, source_id)
    return _source_from_row(row) if row is not None else None


def get_source(session: Session, *, source_id: int) -> Source:
    source = find_source(session, source_id=source_id)
    if source is None:
        raise NotFoundError(f"source {source_id} not found", details={"source_id": source_id})
    return source


def list_sources(session: Session) -> list[Source]:
    return [_source_from_row(row) for row in session.scalars(select(SourceRow).order_by(SourceRow.id))]


def read_credentials(session: Session, *, cipher: CredentialCipher, source_id: int) -> dict[str, str]:
    row = session.get(SourceRow, source_id)
    if row is None:
        raise NotFoundError(f"source {source_id} not found", details={"source_id": source_id})
    credentials: dict[str, str] = json.loads(cipher.decrypt(row.credentials_encrypted))
    return credentials


def read_webhook_secret(session: Session, *, cipher: CredentialCipher, source_id: int) -> str | None:
    row = session.get(SourceRow, source_id)
    if row is None:
        raise NotFoundError(f"source {source_id} not found", details={"source_id": source_id})
    return cipher.decrypt(row.webhook_secret_encrypted) if row.webhook_secret_encrypted else None


def update_source_settings(session: Session, *, source_id: int, settings: dict[str, Any]) -> Source:
    """Merge `settings` into the source's settings (discovered field maps, browse URL, scope)."""
    row = session.get(SourceRow, source_id)
    if row is None:
        raise NotFoundError(f"source {source_id} not found", details={"source_id": source_id})
    row.settings = {**row.settings, **settings}
    session.flush()
    return _source_from_row(row)


def ensure_source_exists(session: Session, *, source_id: int) -> None:
    if session.get(SourceRow, source_id) is None:
        raise NotFoundError(f"source {source_id} not found", details={"source_id": source_id})


def source_has_webhook_secret(session: Session, *, source_id: int) -> bool:
    found = session.scalars(
        select(SourceRow.id).where(SourceRow.id == source_id, SourceRow.webhook_secret_encrypted.is_not(None))
    ).first()
    return found is not None
