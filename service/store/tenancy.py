"""Clients, their scopes, API tokens and feedback.

A token's secret is returned once by `issue_token` and never stored: only its SHA-256 is, so a
database dump cannot be replayed against the API.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.domain.enums import FeedbackSubject, ScopeRule
from service.domain.tenancy import ApiToken, Client, ClientScope, Feedback
from service.errors import ConflictError, InvalidInputError, NotFoundError
from service.store.dialect import table_of
from service.store.orm import ApiTokenRow, ClientRow, ClientScopeRow, FeedbackRow, ProjectRow
from service.store.portal_sessions import remove_portal_sessions_of_token
from service.store.scope_filter import parse_scope_filter

TOKEN_PREFIX = "pmb_"  # noqa: S105 - the public prefix, not a secret
# 32 random bytes: guessing is out of reach, so one unsalted SHA-256 is enough to store it.
_TOKEN_BYTES = 32
# How much of a token is kept in clear to tell tokens apart in listings (the prefix and 4 characters).
_SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 4


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _client(row: ClientRow) -> Client:
    return Client(id=row.id, name=row.name, created_at=row.created_at)


def _scope(row: ClientScopeRow) -> ClientScope:
    return ClientScope(
        id=row.id,
        client_id=row.client_id,
        project_id=row.project_id,
        rule=ScopeRule(row.rule),
        value=row.value,
    )


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=row.id,
        client_id=row.client_id,
        is_admin=row.is_admin,
        name=row.name,
        token_hash=row.token_hash,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def add_client(session: Session, *, name: str, now: datetime) -> Client:
    row = ClientRow(name=name, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"a client named {name!r} exists already", details={"name": name}) from exc
    return _client(row)


def find_client(session: Session, *, client_id: int) -> Client | None:
    row = session.get(ClientRow, client_id)
    return _client(row) if row is not None else None


def get_client(session: Session, *, client_id: int) -> Client:
    client = find_client(session, client_id=client_id)
    if client is None:
        raise NotFoundError(f"client {client_id} not found", details={"client_id": client_id})
    return client


def get_client_by_name(session: Session, *, name: str) -> Client:
    row = session.scalars(select(ClientRow).where(ClientRow.name == name)).one_or_none()
    if row is None:
        raise NotFoundError(f"no client named {name!r}", details={"name": name})
    return _client(row)


def list_clients(session: Session, *, after_id: int = 0, limit: int = 100) -> list[Client]:
    query = select(ClientRow).where(ClientRow.id > after_id).order_by(ClientRow.id).limit(limit)
    return [_client(row) for row in session.scalars(query)]


def delete_client(session: Session, *, client_id: int) -> None:
    get_client(session, client_id=client_id)
    # Tokens go with their client (ON DELETE CASCADE), so none of them authenticates afterwards.
    session.execute(delete(ClientRow).where(ClientRow.id == client_id))


def add_scope(
    session: Session, *, client_id: int, project_id: int, rule: ScopeRule, value: str | None
) -> ClientScope:
    """Grant a client a project, all of it or the items `rule`/`value` select (validated here)."""
    get_client(session, client_id=client_id)
    if session.get(ProjectRow, project_id) is None:
        raise NotFoundError(f"project {project_id} not found", details={"project_id": project_id})
    if rule is ScopeRule.ALL and value:
        raise InvalidInputError("a scope of all items takes no value", details={"rule": rule.value})
    if rule is not ScopeRule.ALL and not (value and value.strip()):
        raise InvalidInputError(f"a {rule.value} scope needs a value", details={"rule": rule.value})
    if rule is ScopeRule.FILTER:
        assert value is not None
        parse_scope_filter(value)
    row = ClientScopeRow(client_id=client_id, project_id=project_id, rule=rule.value, value=value)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            f"client {client_id} has project {project_id} in scope already",
            details={"client_id": client_id, "project_id": project_id},
        ) from exc
    return _scope(row)


def list_scopes(session: Session, *, client_id: int) -> list[ClientScope]:
    query = select(ClientScopeRow).where(ClientScopeRow.client_id == client_id).order_by(ClientScopeRow.id)
    return [_scope(row) for row in session.scalars(query)]


def delete_scope(session: Session, *, client_id: int, scope_id: int) -> None:
    result = session.execute(
        delete(ClientScopeRow).where(ClientScopeRow.id == scope_id, ClientScopeRow.client_id == client_id)
    )
    if not getattr(result, "rowcount", 0):
        raise NotFoundError(f"scope {scope_id} not found", details={"scope_id": scope_id})


def find_project_id(session: Session, *, key: str, source_id: int | None = None) -> int:
    """The id of the project with this key; ambiguous across sources unless `source_id` is given."""
    query = select(ProjectRow.id).where(ProjectRow.key == key)
    if source_id is not None:
        query = query.where(ProjectRow.source_id == source_id)
    ids = list(session.scalars(query.limit(2)))
    if not ids:
        raise NotFoundError(f"no project with key {key!r}", details={"key": key})
    if len(ids) > 1:
        raise ConflictError(f"several sources have a project {key!r}: name the source", details={"key": key})
    return ids[0]


def issue_token(
    session: Session,
    *,
    client_id: int | None,
    is_admin: bool,
    name: str,
    expires_at: datetime | None,
    now: datetime,
) -> IssuedToken:
    """A new random bearer token; its secret is in the result only, the store keeps the hash."""
    if is_admin == (client_id is not None):
        raise InvalidInputError("a token is either an admin token or a client's token")
    if client_id is not None:
        get_client(session, client_id=client_id)
    if expires_at is not None and expires_at <= now:
        raise InvalidInputError("the expiry is in the past", details={"expires_at": expires_at.isoformat()})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    row = ApiTokenRow(
        client_id=client_id,
        is_admin=is_admin,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:_SHOWN_PREFIX_LENGTH],
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return IssuedToken(token=_token(row), secret=secret)


def find_token_by_hash(session: Session, *, token_hash: str) -> ApiToken | None:
    row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash)).one_or_none()
    return _token(row) if row is not None else None


def get_token(session: Session, *, token_id: int) -> ApiToken:
    row = session.get(ApiTokenRow, token_id)
    if row is None:
        raise NotFoundError(f"token {token_id} not found", details={"token_id": token_id})
    return _token(row)


def list_tokens(session: Session, *, client_id: int | None = None, limit: int = 100) -> list[ApiToken]:
    query = select(ApiTokenRow).order_by(ApiTokenRow.id).limit(limit)
    if client_id is not None:
        query = query.where(ApiTokenRow.client_id == client_id)
    return [_token(row) for row in session.scalars(query)]


def revoke_token(session: Session, *, token_id: int, now: datetime) -> ApiToken:
    """Revoke a token and end its portal sessions; revoking it again keeps the first revocation time."""
    row = session.get(ApiTokenRow, token_id)
    if row is None:
        raise NotFoundError(f"token {token_id} not found", details={"token_id": token_id})
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    remove_portal_sessions_of_token(session, token_id=token_id)
    return _token(row)


def touch_token(session: Session, *, token_id: int, now: datetime) -> None:
    session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now))


def touch_tokens(session: Session, *, last_used: Mapping[int, datetime]) -> None:
    """Record when each token was last used, in one statement run per token; a time earlier than
    the one stored (another process wrote a later one) is left alone."""
    if not last_used:
        return
    table = table_of(ApiTokenRow)
    tokens = table.c
    # Core executemany on the session's connection: ORM bulk updates by primary key take no WHERE.
    session.connection().execute(
        update(table)
        .where(
            tokens.id == bindparam("token_id"),
            tokens.last_used_at.is_(None) | (tokens.last_used_at < bindparam("used_at")),
        )
        .values(last_used_at=bindparam("used_at")),
        [{"token_id": token_id, "used_at": used_at} for token_id, used_at in last_used.items()],
    )


def add_feedback(
    session: Session,
    *,
    client_id: int,
    subject: FeedbackSubject,
    subject_id: int | None,
    period_start: date | None,
    period_end: date | None,
    rating: int,
    comment: str | None,
    now: datetime,
) -> Feedback:
    row = FeedbackRow(
        client_id=client_id,
        subject=subject.value,
        subject_id=subject_id,
        period_start=period_start,
        period_end=period_end,
        rating=rating,
        comment=comment,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return Feedback(
        id=row.id,
        client_id=client_id,
        subject=subject,
        subject_id=subject_id,
        period_start=period_start,
        period_end=period_end,
        rating=rating,
        comment=comment,
        created_at=now,
    )
