"""Every table round-trips its values on both databases, time zones and JSON included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from service.store.orm import (
    ActivityRow,
    ApiTokenRow,
    Base,
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

AT = datetime(2026, 3, 29, 1, 30, 15, 123000, tzinfo=UTC)


def _graph() -> list[Base]:
    """One row of every table, linked, with ids fixed so the rows can be re-read."""
    return [
        SourceRow(
            id=1,
            kind="jira_cloud",
            name="s",
            base_url="https://x.atlassian.net",
            credentials_encrypted=b"\x00enc",
            webhook_secret_encrypted=None,
            settings={"promised_date_field": "customfield_10050"},
            created_at=AT,
            last_synced_at=AT,
        ),
        PersonRow(id=1, source_id=1, external_id="acc", display_name="Dana", email=None),
        ProjectRow(
            id=1, source_id=1, external_id="10000", key="ACME", name="Acme", url=None, settings={"push": True}
        ),
        MilestoneRow(
            id=1,
            source_id=1,
            project_id=1,
            external_id="v1",
            name="1.0",
            kind="version",
            start_date=date(2026, 1, 1),
            due_date=date(2026, 4, 1),
            released=False,
            completed_at=None,
        ),
        WorkItemRow(
            id=1,
            source_id=1,
            project_id=1,
            external_id="20001",
            key="ACME-1",
            title="Ünïcode ✓",
            kind="story",
            status="Done",
            status_category="done",
            priority="high",
            assignee_external_id="acc",
            assignee_name="Dana",
            labels=["a", "b"],
            components=["web"],
            parent_external_id="20000",
            milestone_external_ids=["v1"],
            due_date=date(2026, 4, 1),
            start_date=None,
            created_at=AT - timedelta(days=3),
            updated_at=AT,
            resolved_at=AT,
            estimate_seconds=3600,
            spent_seconds=7200,
            story_points=2.5,
            blocked=True,
            url="https://x.atlassian.net/browse/ACME-1",
            visibility="visible",
            visibility_changed_at=None,
            raw={"fields": {"nested": [1, 2, {"k": None}]}},
        ),
        ItemMilestoneRow(item_id=1, milestone_id=1),
        MilestoneChangeRow(
            id=1,
            milestone_id=1,
            field="releaseDate",
            from_value="2026-12-01",
            to_value=None,
            observed_at=AT,
        ),
        ActivityRow(
            id=1,
            source_id=1,
            item_id=1,
            external_id="10120",
            kind="comment",
            author="Mia",
            created_at=AT,
            updated_at=AT + timedelta(hours=2),
        ),
        ChangeRow(
            id=1,
            source_id=1,
            item_id=1,
            external_id="100:0",
            field="duedate",
            from_value="2026-03-01",
            to_value="2026-04-01",
            from_display=None,
            to_display=None,
            author="Dana",
            changed_at=AT,
        ),
        WorklogRow(
            id=1,
            source_id=1,
            item_id=1,
            external_id="10100",
            started_at=AT - timedelta(hours=3),
            spent_seconds=5400,
            updated_at=AT,
        ),
        ClientRow(id=1, name="Acme Corp", created_at=AT),
        ClientScopeRow(id=1, client_id=1, project_id=1, rule="label", value="client-visible"),
        ApiTokenRow(
            id=1,
            client_id=1,
            is_admin=False,
            name="portal",
            token_hash="h" * 64,
            prefix="pmb_abcd",
            created_at=AT,
            expires_at=AT + timedelta(days=90),
            revoked_at=None,
            last_used_at=None,
        ),
        EventSubscriptionRow(
            id=1,
            client_id=1,
            url="https://portal.acme.example/hooks",
            secret_encrypted=b"enc",
            created_by="operator",
            created_at=AT,
            disabled_at=None,
            last_event_id=0,
            attempts=0,
            first_failed_at=None,
            next_attempt_at=None,
            parked_at=None,
            last_status=None,
            last_error=None,
        ),
        FeedbackRow(
            id=1,
            client_id=1,
            subject="period",
            subject_id=None,
            period_start=date(2026, 3, 1),
            period_end=date(2026, 3, 31),
            rating=4,
            comment="good month",
            created_at=AT,
        ),
        CommitmentRow(
            id=1,
            subject="item",
            subject_id=1,
            baseline_date=date(2026, 3, 1),
            current_date=date(2026, 4, 1),
            promised_at=AT - timedelta(days=30),
            delivered_at=None,
        ),
        CommitmentMoveRow(
            id=1,
            commitment_id=1,
            moved_at=AT,
            moved_by="Dana",
            from_date=date(2026, 3, 1),
            to_date=date(2026, 4, 1),
            change_id=1,
        ),
        FlagRow(
            id=1,
            rule_id="overdue",
            subject="item",
            subject_id=1,
            severity="critical",
            state="open",
            message="ACME-1 is 3 days overdue",
            evidence={"days": 3},
            fingerprint="f" * 64,
            first_seen_at=AT,
            last_seen_at=AT,
            resolved_at=None,
            client_text=None,
            published=False,
        ),
        FlagHistoryRow(id=1, flag_id=1, kind="dismissed", at=AT, by="dana", detail={"reason": "known"}),
        FeedEventRow(
            id=1,
            client_id=1,
            project_id=1,
            kind="item_done",
            dedupe_key="item_done:1",
            summary="ACME-1 done",
            payload={"key": "ACME-1"},
            occurred_at=AT,
            created_at=AT,
        ),
        SyncCursorRow(
            id=1,
            source_id=1,
            scope="project:10000",
            position={"updated_ms": 1774747815123, "id": "20001"},
            updated_at=AT,
        ),
        SyncRunRow(
            id=1,
            source_id=1,
            kind="full",
            status="succeeded",
            started_at=AT,
            finished_at=AT,
            items_seen=10,
            items_changed=9,
            changes_added=30,
            items_deleted=1,
            api_calls={"GET /rest/api/3/search/jql": 1},
            errors=[],
        ),
        SyncLeaseRow(source_id=1, owner="host:123", acquired_at=AT, expires_at=AT + timedelta(minutes=10)),
        InboxRow(
            id=1,
            source_id=1,
            delivery_id="d-1",
            event_type="jira:issue_updated",
            body=b'{"a":1}',
            received_at=AT,
            status="pending",
            attempts=0,
            last_error=None,
            processed_at=None,
        ),
        OutboxRow(
            id=1,
            idempotency_key="flag:1:comment",
            kind="jira_comment",
            source_id=1,
            target="ACME-1",
            payload={"flag_id": 1},
            status="pending",
            attempts=0,
            next_attempt_at=AT,
            external_ref=None,
            last_error=None,
            created_at=AT,
            updated_at=AT,
        ),
        PortalSessionRow(
            secret_hash="s" * 64, token_id=1, created_at=AT, expires_at=AT + timedelta(hours=12)
        ),
        RuleRunRow(
            id=1,
            kind="dry_run",
            status="succeeded",
            params={"rules": "rules: []", "since_s": 86400.0, "until": AT.isoformat()},
            progress=1.0,
            result={"hits": []},
            error=None,
            created_at=AT,
            started_at=AT,
            finished_at=AT + timedelta(seconds=3),
        ),
    ]


def _columns(row: Base) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def test_every_table_has_a_row_in_the_graph() -> None:
    assert {row.__tablename__ for row in _graph()} == set(Base.metadata.tables)


@pytest.mark.parametrize("index", range(len(_graph())), ids=[row.__tablename__ for row in _graph()])
def test_row_round_trips_all_columns(session: Session, index: int) -> None:
    rows = _graph()
    for row in rows:
        session.add(row)
        session.flush()
    expected = _columns(rows[index])
    session.expunge_all()

    mapper = type(rows[index])
    primary_key = tuple(expected[c.key] for c in mapper.__table__.primary_key.columns)
    loaded = session.get(mapper, primary_key if len(primary_key) > 1 else primary_key[0])

    assert loaded is not None
    assert _columns(loaded) == expected
