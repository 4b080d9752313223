"""Tables for what pmbridge derives: the promise ledger, flags and feed events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from service.store.base import NEVER_REUSED_IDS, Base
from service.store.orm_work import BigId


class CommitmentRow(Base):
    __tablename__ = "commitments"
    __table_args__ = (UniqueConstraint("subject", "subject_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigId)
    baseline_date: Mapped[date] = mapped_column(Date)
    current_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    promised_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)


class CommitmentMoveRow(Base):
    __tablename__ = "commitment_moves"
    __table_args__ = (Index("ix_commitment_moves_commitment_moved", "commitment_id", "moved_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id", ondelete="CASCADE"))
    moved_at: Mapped[datetime]
    moved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    from_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    to_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Indexed: deleting a change looks here for moves that name it, and a removal deletes every
    # change of a source (without it, 25,000 changes took 26 s on PostgreSQL and 31 s on SQLite).
    change_id: Mapped[int | None] = mapped_column(
        ForeignKey("changes.id", ondelete="SET NULL"), nullable=True, index=True
    )


class FlagRow(Base):
    __tablename__ = "flags"
    __table_args__ = (
        # One open flag per (rule, subject): a flag updates in place, it never duplicates.
        Index(
            "uq_flags_open_rule_subject",
            "rule_id",
            "subject",
            "subject_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
        Index("ix_flags_state_subject", "state", "subject", "subject_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigId)
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="open")
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fingerprint: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    client_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # Push-back: the flag's comment on the provider and the fingerprint it last showed.
    pushed_comment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pushed_fingerprint: Mapped[str | None] = mapped_column(String(80), nullable=True)
    pushed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The first post of the comment (set when a drain takes the flag's budget): a project's daily
    # budget counts these (migration 0018).
    comment_created_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # An operator's triage (migration 0018): acknowledged, snoozed or dismissed, by whom and when,
    # a dismissal's reason and the fingerprint it dismissed, a snooze's end.
    triage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    triage_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    triaged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    triaged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    dismissed_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


class FlagHistoryRow(Base):
    """A flag's life, step by step (migration 0018); deleted with its flag."""

    __tablename__ = "flag_history"
    __table_args__ = (Index("ix_flag_history_flag", "flag_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


def event_document(context: Any) -> str:
    """The event as a client reads it, less its id: a trigger puts `"id"` first once the row is
    inserted and its id known (migration 0007). Built once when the row is written, so a page read
    only joins stored text (building each object in SQL doubled a page's cost)."""
    row = context.get_current_parameters()
    occurred: datetime = row["occurred_at"]
    recorded: datetime = row["created_at"]
    return orjson.dumps(
        {
            "kind": row["kind"],
            "project_id": row.get("project_id"),
            "summary": row["summary"],
            "payload": row.get("payload") or {},
            "occurred_at": occurred.astimezone(UTC).isoformat(timespec="microseconds"),
            # When pmbridge published it (migration 0012): the feed's order follows this, not the above.
            "recorded_at": recorded.astimezone(UTC).isoformat(timespec="microseconds"),
        }
    ).decode()


# SQLite only: a page read from this index alone is ~40% cheaper than through the table, whose rows
# interleave all clients' events (bench/bench_feed.py). PostgreSQL caps an index row at ~2.7 KB,
# which a long event document could pass; it pages by (client, id) on its own index, which on SQLite
# would only repeat the page index's leading columns and cost a write per event (migration 0008).
_FEED_PAGE_INDEX_NAME = "ix_feed_events_client_page"
FEED_PAGE_INDEX = Index(_FEED_PAGE_INDEX_NAME, "client_id", "id", "project_id", "document")
FEED_PAGE_INDEX.ddl_if(dialect="sqlite")
_FEED_CURSOR_INDEX_NAME = "ix_feed_events_client_cursor"
FEED_CURSOR_INDEX = Index(_FEED_CURSOR_INDEX_NAME, "client_id", "id")
FEED_CURSOR_INDEX.ddl_if(dialect="postgresql")
# Indexes that exist on one dialect only, by name.
DIALECT_ONLY_INDEXES = {_FEED_PAGE_INDEX_NAME: "sqlite", _FEED_CURSOR_INDEX_NAME: "postgresql"}


class FeedEventRow(Base):
    __tablename__ = "feed_events"
    __table_args__ = (
        UniqueConstraint("client_id", "dedupe_key"),
        # The feed pages by (client, id): id is the monotonic cursor.
        FEED_CURSOR_INDEX,
        FEED_PAGE_INDEX,
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # When it happened at the source; `created_at` is when pmbridge published it (served as
    # `recorded_at`). The feed is ordered by id, which follows `created_at`.
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime]
    document: Mapped[str] = mapped_column(Text, default=event_document)
    # What the event is about, so it is withdrawn from a client that no longer sees it. No foreign
    # key: an event outlives the rows it names until the client's feed is next brought to its scope.
    item_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    milestone_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
