"""Who may see what: clients, the projects and items in their scope, their tokens and feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from service.domain.enums import FeedbackSubject, ScopeRule


@dataclass(frozen=True, slots=True, kw_only=True)
class Client:
    id: int | None = None
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientScope:
    """A project a client may see, and which of its items: all, or those matching `rule`/`value`."""

    id: int | None = None
    client_id: int
    project_id: int
    rule: ScopeRule = ScopeRule.ALL
    value: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiToken:
    """A bearer token; only its hash is stored, the secret is shown once at creation."""

    id: int | None = None
    client_id: int | None  # None for an admin token
    is_admin: bool
    name: str
    token_hash: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    id: int | None = None
    client_id: int
    subject: FeedbackSubject
    subject_id: int | None = None  # milestone or feed event id
    period_start: date | None = None
    period_end: date | None = None
    rating: int
    comment: str | None = None
    created_at: datetime
