"""What pmbridge concludes and tells: rule flags and client-visible feed events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.domain.enums import FeedEventKind, FlagState, FlagSubject, Severity
from service.domain.work import JSON


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """A rule's finding on one subject; at most one open flag per (rule, subject)."""

    id: int | None = None
    rule_id: str
    subject: FlagSubject
    subject_id: int
    severity: Severity
    state: FlagState = FlagState.OPEN
    message: str
    evidence: dict[str, JSON] = field(default_factory=dict)
    fingerprint: str
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None
    client_text: str | None = None
    published: bool = False
    # Push-back: the provider comment showing the flag, and the `fingerprint:state` it last showed.
    pushed_comment_id: str | None = None
    pushed_fingerprint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEvent:
    """A client-visible event; `id` is the monotonic cursor the feed pages by."""

    id: int | None = None
    client_id: int
    project_id: int | None
    kind: FeedEventKind
    # Makes at-least-once producers idempotent: one event per (client, dedupe_key).
    dedupe_key: str
    summary: str
    payload: dict[str, JSON] = field(default_factory=dict)
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event before it is fanned out to the clients that may see its subject."""

    kind: FeedEventKind
    dedupe_key: str
    summary: str
    payload: dict[str, Any]
    occurred_at: datetime
    project_id: int
    item_id: int | None = None  # None: a project- or milestone-level event every scoped client sees
