"""A source with a row of everything that hangs off it, for removal tests, and every table's rows
read back by primary key."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session

from service.store.base import Base
from service.store.orm import (
    ActivityRow,
    ApiTokenRow,
    ChangeRow,
    ClientRow,
    ClientScopeRow,
    CommitmentMoveRow,
    CommitmentRow,
    EventSubscriptionRow,
    FeedbackRow,
    FeedEventRow,
    FlagHistoryRow,
    FlagRow,
    InboxRow,
    ItemMilestoneRow,
    MilestoneChangeRow,
    MilestoneRow,
    OutboxRow,
    PersonRow,
    PortalSessionRow,
    ProjectRow,
    RuleRunRow,
    SourceRow,
    SyncCursorRow,
    SyncLeaseRow,
    SyncRunRow,
    WorkItemRow,
    WorklogRow,
)

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
Key = tuple[Any, ...]


@dataclass
class SourceWorld:
    """The rows one source's world holds, by table and primary key, and the rows of other tables
    that removing it changes rather than deletes."""

    source_id: int
    owned: dict[str, set[Key]] = field(default_factory=lambda: defaultdict(set))
    item_ids: list[int] = field(default_factory=list)
    flag_ids: list[int] = field(default_factory=list)
    kept_event: int = 0
    withdrawn_event: int = 0
    feedback_on_milestone: int = 0
    feedback_on_withdrawn_event: int = 0
    feedback_on_kept_event: int = 0

    def own(self, row: Base) -> None:
        table: Table = row.__table__  # type: ignore[assignment]
        self.owned[table.name].add(tuple(getattr(row, c.key) for c in table.primary_key.columns))


def add_shared_client(session: Session, *, name: str = "Acme") -> int:
    """A client with a token, a portal session and a subscription, as no source owns them."""
    client = ClientRow(name=name, created_at=AT)
    session.add(client)
    session.flush()
    token = ApiTokenRow(
        client_id=client.id, is_admin=False, name=name, token_hash=f"h-{name}", prefix="pmb_x", created_at=AT
    )
    session.add(token)
    session.flush()
    session.add_all(
        [
            PortalSessionRow(
                secret_hash=f"s-{name}", token_id=token.id, created_at=AT, expires_at=AT + timedelta(hours=1)
            ),
            EventSubscriptionRow(
                client_id=client.id,
                url=f"https://{name.lower()}.example/hook",
                secret_encrypted=b"enc",
                created_by="operator",
                created_at=AT,
            ),
            RuleRunRow(kind="dry_run", status="succeeded", params={}, created_at=AT),
            FeedEventRow(
                client_id=client.id,
                project_id=None,
                kind="note",
                dedupe_key=f"note-{name}",
                summary="A note for every project",
                payload={},
                occurred_at=AT,
                created_at=AT,
            ),
            FeedbackRow(client_id=client.id, subject="period", rating=4, created_at=AT),
        ]
    )
    session.flush()
    return client.id


def add_source_world(session: Session, *, name: str, client_id: int, key: str) -> SourceWorld:
    """A source with one row of every table that hangs off a source, seen by `client_id`: project
    `key` in its scope, project `key`OLD out of it (it still holds an event of the client's)."""
    source = SourceRow(
        kind="jira_cloud",
        name=name,
        base_url=f"https://{name}.atlassian.net",
        credentials_encrypted=b"enc",
        settings={},
        created_at=AT,
    )
    session.add(source)
    session.flush()
    world = SourceWorld(source_id=source.id)
    world.own(source)
    person = PersonRow(source_id=source.id, external_id=f"{key}-p", display_name="Dana")
    project = ProjectRow(source_id=source.id, external_id=f"{key}-10", key=key, name=f"{key} web")
    former = ProjectRow(source_id=source.id, external_id=f"{key}-11", key=f"{key}OLD", name="Former")
    _add(session, world, person, project, former)
    milestone = MilestoneRow(
        source_id=source.id, project_id=project.id, external_id=f"{key}-v1", name="1.0", kind="version"
    )
    items = [
        _item(source.id, project.id, f"{key}-1"),
        _item(source.id, project.id, f"{key}-2"),
        _item(source.id, former.id, f"{key}OLD-1"),
    ]
    _add(session, world, milestone, *items)
    world.item_ids = [item.id for item in items]
    change = ChangeRow(
        source_id=source.id,
        item_id=items[0].id,
        external_id=f"{key}-c1",
        field="duedate",
        from_value="2026-12-01",
        to_value="2026-12-08",
        changed_at=AT,
    )
    promise = CommitmentRow(
        subject="item", subject_id=items[0].id, baseline_date=date(2026, 12, 1), promised_at=AT
    )
    on_milestone = CommitmentRow(
        subject="milestone", subject_id=milestone.id, baseline_date=date(2026, 12, 20), promised_at=AT
    )
    worklog = WorklogRow(
        source_id=source.id,
        item_id=items[0].id,
        external_id=f"{key}-w1",
        started_at=AT,
        spent_seconds=3600,
        updated_at=AT,
    )
    moved = MilestoneChangeRow(
        milestone_id=milestone.id,
        field="releaseDate",
        from_value="2026-12-13",
        to_value="2026-12-20",
        observed_at=AT,
    )
    _add(
        session,
        world,
        ItemMilestoneRow(item_id=items[0].id, milestone_id=milestone.id),
        change,
        worklog,
        moved,
    )
    _add(session, world, promise, on_milestone)
    flags = [
        _flag(subject="item", subject_id=items[0].id, pushed=f"{source.id}0001"),
        _flag(subject="milestone", subject_id=milestone.id),
        _flag(subject="project", subject_id=project.id),
    ]
    _add(session, world, *flags)
    world.flag_ids = [flag.id for flag in flags]
    # Goes with its flag (ON DELETE CASCADE), not as a kind of its own.
    _add(session, world, FlagHistoryRow(flag_id=flags[0].id, kind="raised", at=AT, detail={}))
    _add(
        session,
        world,
        CommitmentMoveRow(
            commitment_id=promise.id,
            moved_at=AT,
            from_date=date(2026, 12, 1),
            to_date=date(2026, 12, 8),
            change_id=change.id,
        ),
        OutboxRow(
            idempotency_key=f"flag:{flags[0].id}:fp:open",
            kind="flag_comment",
            source_id=source.id,
            target=items[0].key,
            payload={"flag_id": flags[0].id},
            status="pending",
            next_attempt_at=AT,
            created_at=AT,
            updated_at=AT,
        ),
        ClientScopeRow(client_id=client_id, project_id=project.id),
        SyncCursorRow(source_id=source.id, scope=key, position={}, updated_at=AT),
        SyncRunRow(source_id=source.id, kind="full", status="succeeded", started_at=AT),
        SyncLeaseRow(source_id=source.id, owner="worker", acquired_at=AT, expires_at=AT),
        InboxRow(
            source_id=source.id,
            delivery_id=f"{key}-d1",
            event_type="jira:issue_updated",
            body=b"{}",
            received_at=AT,
        ),
        ActivityRow(
            source_id=source.id,
            item_id=items[1].id,
            external_id=f"{key}-comment1",
            kind="comment",
            author="Dana",
            created_at=AT,
            updated_at=AT,
        ),
    )
    kept = _event(client_id, project.id, f"{key}-risk", {"flag_id": flags[0].id, "text": f"{key} may slip"})
    kept.item_id, kept.milestone_id = items[0].id, milestone.id
    withdrawn = _event(client_id, former.id, f"{key}OLD-done", {"item": f"{key}OLD-1"})
    session.add_all([kept, withdrawn])
    session.flush()
    world.kept_event, world.withdrawn_event = kept.id, withdrawn.id
    world.own(withdrawn)
    rated = [
        FeedbackRow(
            client_id=client_id, subject="milestone", subject_id=milestone.id, rating=5, created_at=AT
        ),
        FeedbackRow(client_id=client_id, subject="event", subject_id=withdrawn.id, rating=2, created_at=AT),
        FeedbackRow(client_id=client_id, subject="event", subject_id=kept.id, rating=3, created_at=AT),
    ]
    session.add_all(rated)
    session.flush()
    world.feedback_on_milestone, world.feedback_on_withdrawn_event, world.feedback_on_kept_event = (
        row.id for row in rated
    )
    return world


def _add(session: Session, world: SourceWorld, *rows: Base) -> None:
    session.add_all(rows)
    session.flush()
    for row in rows:
        world.own(row)


def _item(source_id: int, project_id: int, key: str) -> WorkItemRow:
    return WorkItemRow(
        source_id=source_id,
        project_id=project_id,
        external_id=f"ext-{key}",
        key=key,
        title=f"Item {key}",
        kind="task",
        status="In Progress",
        status_category="in_progress",
        priority="medium",
        created_at=AT,
        updated_at=AT,
    )


def _flag(*, subject: str, subject_id: int, pushed: str | None = None) -> FlagRow:
    return FlagRow(
        rule_id="overdue_commitment",
        subject=subject,
        subject_id=subject_id,
        severity="warning",
        state="open",
        message=f"{subject} {subject_id} is late",
        evidence={"days_overdue": 3},
        fingerprint="fp",
        first_seen_at=AT,
        last_seen_at=AT,
        published=True,
        client_text="It may slip",
        pushed_comment_id=pushed,
        pushed_fingerprint="fp:open" if pushed else None,
    )


def _event(client_id: int, project_id: int, dedupe_key: str, payload: dict[str, Any]) -> FeedEventRow:
    return FeedEventRow(
        client_id=client_id,
        project_id=project_id,
        kind="risk_resolved",
        dedupe_key=dedupe_key,
        summary=f"Summary of {dedupe_key}",
        payload=payload,
        occurred_at=AT,
        created_at=AT,
    )


def read_every_table(connection: Connection | Session) -> dict[str, dict[Key, dict[str, Any]]]:
    """Every row of every table of the ORM's metadata, by table name and primary key."""
    tables: dict[str, dict[Key, dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        keys = [c.name for c in table.primary_key.columns]
        tables[table.name] = {
            tuple(row[k] for k in keys): dict(row) for row in connection.execute(select(table)).mappings()
        }
    return tables
