"""Tables for what the providers track: sources, people, projects, milestones, items, changes,
worklogs, activity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.store.base import NEVER_REUSED_IDS, Base

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class SourceRow(Base):
    __tablename__ = "sources"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    base_url: Mapped[str] = mapped_column(String(500))
    # Fernet tokens: credentials and webhook secret never sit in the database in clear.
    credentials_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    last_synced_at: Mapped[datetime | None] = mapped_column(nullable=True)


class PersonRow(Base):
    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)


class ProjectRow(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("source_id", "external_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MilestoneRow(Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("source_id", "external_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    goal: Mapped[str | None] = mapped_column(Text, nullable=True)


class MilestoneChangeRow(Base):
    """A milestone's due date as the sync saw it change between two writes (Jira keeps no changelog
    for versions or sprints): from the stored date to the incoming one, at the write's time."""

    __tablename__ = "milestone_changes"
    __table_args__ = (UniqueConstraint("milestone_id", "observed_at", "to_value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(100))
    from_value: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_value: Mapped[str | None] = mapped_column(String(32), nullable=True)
    observed_at: Mapped[datetime]


class WorkItemRow(Base):
    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_work_items_project_category", "project_id", "status_category"),
        Index("ix_work_items_source_updated", "source_id", "updated_at"),
        Index("ix_work_items_source_key", "source_id", "key"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(100))
    status_category: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    assignee_external_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    assignee_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    labels: Mapped[list[str]] = mapped_column(default=list)
    components: Mapped[list[str]] = mapped_column(default=list)
    parent_external_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    milestone_external_ids: Mapped[list[str]] = mapped_column(default=list)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    estimate_seconds: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    spent_seconds: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    story_points: Mapped[float | None] = mapped_column(Float, nullable=True)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    visibility: Mapped[str] = mapped_column(String(16), default="visible")
    visibility_changed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ItemMilestoneRow(Base):
    """Which milestones an item belongs to, for progress per milestone."""

    __tablename__ = "item_milestones"

    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True)
    milestone_id: Mapped[int] = mapped_column(
        ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ChangeRow(Base):
    __tablename__ = "changes"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_changes_item_changed", "item_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(100))
    from_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    to_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    from_display: Mapped[str | None] = mapped_column(Text, nullable=True)
    to_display: Mapped[str | None] = mapped_column(Text, nullable=True)
    author: Mapped[str | None] = mapped_column(String(200), nullable=True)
    changed_at: Mapped[datetime]


class WorklogRow(Base):
    """Time logged on an item (a Jira worklog), synced through the site's worklog feeds."""

    __tablename__ = "worklogs"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_worklogs_item_started", "item_id", "started_at"),
        # Worklogs are deleted one by one as Jira deletes them: a deleted row's id is never handed
        # out again.
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    spent_seconds: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class ActivityRow(Base):
    """Signs of work on an item that change no field (comments, Trello checklist and member
    actions): who and when, never a comment's text. Its ids stay inside the database."""

    __tablename__ = "item_activity"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_item_activity_item_updated", "item_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
