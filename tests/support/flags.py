"""Projects, items and flags inserted as rows, and the provider side of pushed flag comments."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.jira.adf import adf_to_text
from sandbox.jira.model import Comment
from service.domain.enums import FlagState, FlagSubject, SourceKind
from service.domain.signals import Flag
from service.store.db import transaction
from service.store.flags import get_flag as get_stored_flag
from service.store.orm import FlagRow, OutboxRow, ProjectRow, SourceRow, WorkItemRow
from service.store.runtime import Store
from tests.support.jira_sandbox import JiraSandbox

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FLAG_PROPERTY = "pmbridge.flag"


def add_source_row(session: Session, *, name: str = "acme", kind: SourceKind = SourceKind.JIRA_CLOUD) -> int:
    row = SourceRow(
        kind=kind.value,
        name=name,
        base_url="https://acme.atlassian.net",
        credentials_encrypted=b"not-used",
        settings={},
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    return row.id


def add_project(
    session: Session, *, source_id: int, key: str = "ACM", push: dict[str, Any] | None = None
) -> int:
    row = ProjectRow(
        source_id=source_id,
        external_id=f"ext-{key}",
        key=key,
        name=f"Project {key}",
        settings={"push": push} if push is not None else {},
    )
    session.add(row)
    session.flush()
    return row.id


def add_item(
    session: Session, *, source_id: int, project_id: int, key: str, external_id: str | None = None
) -> int:
    row = WorkItemRow(
        source_id=source_id,
        project_id=project_id,
        external_id=external_id or f"ext-{key}",
        key=key,
        title=f"Item {key}",
        kind="task",
        status="In Progress",
        status_category="in_progress",
        priority="medium",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(row)
    session.flush()
    return row.id


def fingerprint_of(evidence: dict[str, Any]) -> str:
    return hashlib.sha256(repr(sorted(evidence.items())).encode()).hexdigest()[:32]


def add_flag(
    session: Session,
    *,
    subject_id: int,
    rule_id: str = "overdue_commitment",
    subject: FlagSubject = FlagSubject.ITEM,
    days_overdue: int = 3,
    state: FlagState = FlagState.OPEN,
    push_to_jira: bool = True,
) -> FlagRow:
    evidence = overdue_evidence(days_overdue, push_to_jira=push_to_jira)
    row = FlagRow(
        rule_id=rule_id,
        subject=subject.value,
        subject_id=subject_id,
        severity="critical",
        state=state.value,
        message=f"Item is {days_overdue} day(s) past its promised date 2026-11-20",
        evidence=evidence,
        fingerprint=fingerprint_of(evidence),
        first_seen_at=NOW,
        last_seen_at=NOW,
        resolved_at=NOW if state is FlagState.RESOLVED else None,
        published=False,
    )
    session.add(row)
    session.flush()
    return row


def overdue_evidence(days_overdue: int, *, push_to_jira: bool = True) -> dict[str, Any]:
    return {
        "promised_date": "2026-11-20",
        "days_overdue": days_overdue,
        "slip_count": 1,
        "push_to_jira": push_to_jira,
        "client_visible": True,
    }


def change_flag(session: Session, flag: FlagRow, *, days_overdue: int) -> None:
    flag.evidence = overdue_evidence(days_overdue)
    flag.fingerprint = fingerprint_of(flag.evidence)
    flag.message = f"Item is {days_overdue} day(s) past its promised date 2026-11-20"
    session.flush()


def resolve(session: Session, flag: FlagRow, *, now: datetime = NOW) -> None:
    flag.state = FlagState.RESOLVED.value
    flag.resolved_at = now
    session.flush()


def outbox_rows(store: Store) -> list[OutboxRow]:
    with store.sessions() as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def as_flag(session: Session, row: FlagRow) -> Flag:
    """The flag as the store hands it out, with the row's unflushed changes."""
    return get_stored_flag(session, flag_id=row.id)


def get_flag(store: Store, flag_id: int) -> FlagRow:
    with store.sessions() as session:
        row = session.get(FlagRow, flag_id)
        assert row is not None
        return row


def add_sandbox_items(
    store: Store, *, source_id: int, issues: list[tuple[str, str]], push: dict[str, Any]
) -> list[int]:
    """One project holding the given (key, external id) issues as items; returns the item ids."""
    with transaction(store.sessions) as session:
        project_id = add_project(session, source_id=source_id, key=issues[0][0].split("-")[0], push=push)
        return [
            add_item(session, source_id=source_id, project_id=project_id, key=key, external_id=external_id)
            for key, external_id in issues
        ]


def sandbox_issues(jira_sandbox: JiraSandbox, count: int) -> list[tuple[str, str]]:
    world = jira_sandbox.sandbox.jira
    with world.lock:
        return [(issue.key, str(issue.id)) for issue in list(world.issues.values())[:count]]


def flag_comments(jira_sandbox: JiraSandbox, flag_id: int) -> list[Comment]:
    """Comments on the sandbox site that carry this flag's property."""
    world = jira_sandbox.sandbox.jira
    with world.lock:
        return [
            comment
            for comment in world.comments.values()
            if isinstance(marker := comment.properties.get(FLAG_PROPERTY), dict)
            and marker.get("flag_id") == flag_id
        ]


def comment_text(comment: Comment) -> str:
    return adf_to_text(comment.body)


def api_requests(jira_sandbox: JiraSandbox) -> dict[str, int]:
    """Requests the sandbox REST API received, by route template ("POST /rest/api/3/comment/list")."""
    response = httpx.get(f"{jira_sandbox.base_url}/_sandbox/requests", timeout=10)
    by_route: dict[str, int] = response.json()["by_route"]
    return by_route
