"""A small agency for the console's browser test and its screenshots: the API tests' world
(`tests.support.api.seed_world`) with what the operator's pages show beside it: sync runs (one that
failed), webhook deliveries (one pending, one dead), feedback with a comment, a spare Trello source
to remove, and a flag whose comment was posted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from service.domain.enums import FeedbackSubject, InboxStatus, SourceKind, SyncRunKind, SyncRunStatus
from service.flags.push_text import push_state_of
from service.store.db import transaction
from service.store.flags import get_flag, record_pushed_comment
from service.store.inbox import add_delivery, record_delivery_outcome
from service.store.orm import WorkItemRow
from service.store.runtime import Store
from service.store.sync_state import finish_sync_run, start_sync_run
from service.store.tenancy import add_feedback
from tests.support.api import World, seed_world
from tests.support.sources import add_test_source

COMMENT_ID = "10042"
ISSUE_URL = "https://acme.atlassian.net/browse/ACME-2"
FEEDBACK_COMMENT = "The launch date moved twice; please warn us earlier."
SPARE_SOURCE = "spare-trello"


@dataclass
class ConsoleWorld:
    world: World
    spare_source_id: int
    feedback_id: int


def _run(store: Store, *, source_id: int, at: datetime, status: SyncRunStatus, errors: list[str]) -> None:
    with transaction(store.sessions) as session:
        run_id = start_sync_run(session, source_id=source_id, kind=SyncRunKind.INCREMENTAL, now=at)
        finish_sync_run(
            session,
            run_id=run_id,
            status=status,
            now=at + timedelta(seconds=20),
            items_seen=14,
            items_changed=2,
            changes_added=3,
            items_deleted=0,
            api_calls={},
            errors=errors,
        )


def seed_console_world(store: Store) -> ConsoleWorld:
    world = seed_world(store)
    now = datetime.now(UTC).replace(microsecond=0)
    spare = add_test_source(
        store,
        kind=SourceKind.TRELLO,
        name=SPARE_SOURCE,
        webhook_secret=None,
        base_url="https://api.trello.com",
        credentials={"api_key": "k", "token": "t"},
    )
    _run(
        store,
        source_id=world.source_id,
        at=now - timedelta(hours=2),
        status=SyncRunStatus.SUCCEEDED,
        errors=[],
    )
    _run(
        store,
        source_id=world.source_id,
        at=now - timedelta(minutes=30),
        status=SyncRunStatus.FAILED,
        errors=["HTTP 503 from /rest/api/3/search/jql"],
    )
    with transaction(store.sessions) as session:
        for n, outcome in enumerate((None, InboxStatus.DEAD, InboxStatus.PROCESSED)):
            inbox_id = add_delivery(
                session,
                source_id=world.source_id,
                delivery_id=f"console-{n}",
                event_type="jira:issue_updated",
                body=b"{}",
                received_at=now - timedelta(minutes=10 * (3 - n)),
            )
            assert inbox_id is not None
            if outcome is not None:
                record_delivery_outcome(session, inbox_id=inbox_id, status=outcome, now=now, error="boom")
        feedback = add_feedback(
            session,
            client_id=world.clients["acme"],
            subject=FeedbackSubject.MILESTONE,
            subject_id=world.milestones["ACME"],
            period_start=None,
            period_end=None,
            rating=2,
            comment=FEEDBACK_COMMENT,
            now=now - timedelta(hours=1),
        )
        assert feedback.id is not None
        # ACME-2's flag has its comment posted on the issue, showing the flag as it is.
        session.execute(update(WorkItemRow).where(WorkItemRow.key == "ACME-2").values(url=ISSUE_URL))
        flag = get_flag(session, flag_id=world.flags["ACME-item"])
        record_pushed_comment(
            session,
            flag_id=world.flags["ACME-item"],
            comment_id=COMMENT_ID,
            pushed_state=push_state_of(fingerprint=flag.fingerprint, state=flag.state.value),
            now=now,
        )
    return ConsoleWorld(world=world, spare_source_id=spare, feedback_id=feedback.id)
