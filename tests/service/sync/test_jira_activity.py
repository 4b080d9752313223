"""Jira comments and worklogs as activity, end to end against the sandbox over loopback: a comment
made after an item went stale ends its staleness through an incremental sync and through a comment
webhook, as time logged does; a deleted comment no longer counts, and pmbridge's own flag comment
never does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors.http import RetryPolicy
from service.domain.enums import ActivityKind, InboxStatus, SourceKind
from service.flags.push import drain_pushes
from service.flags.run import evaluate_projects
from service.store.activity import list_item_activity
from service.store.db import transaction
from service.store.orm import FlagRow, InboxRow, WorkItemRow
from service.store.projects import update_project_push_settings
from service.store.runtime import Store
from service.sync.deliveries import process_delivery_now
from service.sync.runs import sync_source_now
from tests.support.jira_sandbox import JiraSandbox
from tests.support.rules import STALE_ON, rules_dir_with
from tests.support.sources import add_test_source

STALE = "stale_in_progress"
MONTH_S = 30 * 86_400
BODY = "Numbers for the board are in the shared sheet, do not forward"
SEARCH = "POST /rest/api/3/search/jql"
COMMENTS = "GET /rest/api/3/issue/{issue}/comment"


def pick_in_progress(store: Store, source_id: int) -> tuple[int, str, str, int]:
    """An in-progress, unblocked item: store id, external id, key, project id."""
    with store.sessions() as session:
        row = session.scalars(
            select(WorkItemRow)
            .where(
                WorkItemRow.source_id == source_id,
                WorkItemRow.status_category == "in_progress",
                WorkItemRow.blocked.is_(False),
                WorkItemRow.visibility == "visible",
            )
            .order_by(WorkItemRow.id)
        ).first()
        assert row is not None
        return row.id, row.external_id, row.key, row.project_id


def item_keys(store: Store, source_id: int, count: int) -> list[str]:
    with store.sessions() as session:
        keys = list(
            session.scalars(
                select(WorkItemRow.key)
                .where(WorkItemRow.source_id == source_id, WorkItemRow.visibility == "visible")
                .order_by(WorkItemRow.id)
                .limit(count)
            )
        )
    assert len(keys) == count
    return keys


def stale(store: Store, item_id: int) -> bool:
    with store.sessions() as session:
        found = session.scalars(
            select(FlagRow.id).where(
                FlagRow.rule_id == STALE,
                FlagRow.subject == "item",
                FlagRow.subject_id == item_id,
                FlagRow.state == "open",
            )
        ).first()
        return found is not None


def sandbox_now(jira_sandbox: JiraSandbox) -> datetime:
    return jira_sandbox.sandbox.clock.now()


def comment_times(jira_sandbox: JiraSandbox, comment_id: str) -> tuple[datetime, datetime]:
    """When the sandbox's Jira says the comment was created and last edited."""
    world = jira_sandbox.sandbox.jira
    with world.lock:
        found = world.comments[int(comment_id)]
        return (
            datetime.fromtimestamp(found.created_ms / 1000, tz=UTC),
            datetime.fromtimestamp(found.updated_ms / 1000, tz=UTC),
        )


def evaluate(store: Store, jira_sandbox: JiraSandbox, source_id: int, rules_dir: Path | None = None) -> None:
    """Evaluate with `stale_in_progress` on (it is off as shipped), or with `rules_dir`'s rules."""
    rules = rules_dir or rules_dir_with(STALE_ON)
    evaluate_projects(store, now=sandbox_now(jira_sandbox), rules_dir=rules, source_id=source_id)


def went_stale(
    store: Store, jira_sandbox: JiraSandbox, source_id: int, item_id: int, rules_dir: Path | None = None
) -> None:
    """A month passes with no work on anything; the item is flagged stale."""
    jira_sandbox.control("POST", "/clock/advance", {"seconds": MONTH_S})
    evaluate(store, jira_sandbox, source_id, rules_dir)
    assert stale(store, item_id)


def comment(jira_sandbox: JiraSandbox, key: str, text: str = BODY) -> str:
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 60})
    created = jira_sandbox.control("POST", f"/jira/issues/{key}/comments", {"text": text})
    return str(created.json()["id"])


def test_comment_after_last_activity_ends_staleness_after_an_incremental_sync(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    item_id, external_id, key, _ = pick_in_progress(store, jira_source_id)
    went_stale(store, jira_sandbox, jira_source_id, item_id)
    comment_id = comment(jira_sandbox, key)

    summary = sync_source_now(store, source_id=jira_source_id, full=False)
    evaluate(store, jira_sandbox, jira_source_id)

    assert not stale(store, item_id)
    assert summary.activity_changed == 1
    with store.sessions() as session:
        [stored] = [
            a
            for a in list_item_activity(session, source_id=jira_source_id, item_external_id=external_id)
            if a.kind is ActivityKind.COMMENT
        ]
    assert (stored.external_id, stored.created_at) == (comment_id, comment_times(jira_sandbox, comment_id)[0])
    assert stored.author == "Sandbox Integration"


def test_comment_deleted_no_longer_counts_after_an_incremental_sync(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    item_id, _, key, _ = pick_in_progress(store, jira_source_id)
    jira_sandbox.control("POST", "/clock/advance", {"seconds": MONTH_S})
    comment_id = comment(jira_sandbox, key)
    sync_source_now(store, source_id=jira_source_id, full=False)
    jira_sandbox.control("DELETE", f"/jira/comments/{comment_id}")

    sync_source_now(store, source_id=jira_source_id, full=False)
    evaluate(store, jira_sandbox, jira_source_id)

    assert stale(store, item_id)


def test_comment_edited_later_counts_from_the_edit(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    item_id, _, key, _ = pick_in_progress(store, jira_source_id)
    comment_id = comment(jira_sandbox, key)
    sync_source_now(store, source_id=jira_source_id, full=False)
    went_stale(store, jira_sandbox, jira_source_id, item_id)
    jira_sandbox.control("PATCH", f"/jira/comments/{comment_id}", {"text": "Sheet updated"})

    sync_source_now(store, source_id=jira_source_id, full=False)
    evaluate(store, jira_sandbox, jira_source_id)

    assert not stale(store, item_id)


def test_worklog_after_last_activity_ends_staleness_after_an_incremental_sync(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    item_id, _, key, _ = pick_in_progress(store, jira_source_id)
    went_stale(store, jira_sandbox, jira_source_id, item_id)
    jira_sandbox.control("POST", f"/jira/issues/{key}/worklogs", {"seconds": 5400})
    # Jira's worklog feeds leave out the last minute.
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 120})

    sync_source_now(store, source_id=jira_source_id, full=False)
    evaluate(store, jira_sandbox, jira_source_id)

    assert not stale(store, item_id)


def test_issue_with_more_comments_than_search_embeds_is_read_whole(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    _, external_id, key, _ = pick_in_progress(store, jira_source_id)
    cap = jira_sandbox.sandbox.jira.settings.comment_cap_search
    for n in range(cap + 5):
        comment(jira_sandbox, key, text=f"note {n}")

    summary = sync_source_now(store, source_id=jira_source_id, full=False)

    with store.sessions() as session:
        stored = list_item_activity(session, source_id=jira_source_id, item_external_id=external_id)
    assert sum(a.kind is ActivityKind.COMMENT for a in stored) == cap + 5
    assert summary.api_calls["by_endpoint"][COMMENTS] == {"200": 1}


def test_incremental_run_reads_comments_with_one_more_search_not_one_call_per_issue(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    for key in item_keys(store, jira_source_id, 3):
        comment(jira_sandbox, key)

    summary = sync_source_now(store, source_id=jira_source_id, full=False)

    assert summary.api_calls["by_endpoint"][SEARCH] == {"200": 2}
    assert COMMENTS not in summary.api_calls["by_endpoint"]


def test_pmbridges_own_flag_comment_is_not_activity(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int, tmp_path: Path
) -> None:
    # Stale flags get no comment as shipped; this project's rules push them.
    (tmp_path / "default.yaml").write_text(STALE_ON + "    push_to_jira: true\n")
    sync_source_now(store, source_id=jira_source_id, full=True)
    item_id, external_id, _, project_id = pick_in_progress(store, jira_source_id)
    with transaction(store.sessions) as session:
        update_project_push_settings(
            session,
            project_id=project_id,
            settings={"enabled": True, "dry_run": False, "max_per_day": 1000, "min_severity": "info"},
        )
    went_stale(store, jira_sandbox, jira_source_id, item_id, tmp_path)
    drain_pushes(store, now=sandbox_now(jira_sandbox), retry=RetryPolicy.without_waiting(max_retry_after=0.0))
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 60})

    sync_source_now(store, source_id=jira_source_id, full=False)
    evaluate(store, jira_sandbox, jira_source_id, tmp_path)

    with store.sessions() as session:
        stored = list_item_activity(session, source_id=jira_source_id, item_external_id=external_id)
        pushed = session.scalars(
            select(FlagRow.pushed_comment_id).where(FlagRow.subject_id == item_id, FlagRow.rule_id == STALE)
        ).one()
    assert pushed in {a.external_id for a in stored}
    assert stale(store, item_id)


# -- webhooks ---------------------------------------------------------------------------------------


@pytest.fixture
def hooked_source(app_store: Store, jira_sandbox: JiraSandbox) -> int:
    sandbox = jira_sandbox.sandbox
    source_id = add_test_source(
        app_store,
        kind=SourceKind.JIRA_CLOUD,
        name="sandbox-jira",
        webhook_secret=sandbox.jira_webhook_secret,
        base_url=jira_sandbox.base_url,
        credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
    )
    sync_source_now(app_store, source_id=source_id, full=True)
    jira_sandbox.control(
        "POST", "/jira/webhooks", {"url": f"http://pmbridge.invalid/webhooks/jira/{source_id}"}
    )
    return source_id


def deliver_all(client: TestClient, jira_sandbox: JiraSandbox, store: Store) -> list[InboxStatus]:
    for delivery in jira_sandbox.sink.deliveries:
        path = "/" + delivery.url.split("/", 3)[3]
        response = client.post(path, content=delivery.body, headers=delivery.headers)
        assert response.status_code in (200, 202), response.text
    jira_sandbox.sink.deliveries.clear()
    with store.sessions() as session:
        ids = list(
            session.scalars(select(InboxRow.id).where(InboxRow.status == "pending").order_by(InboxRow.id))
        )
    return [process_delivery_now(store, inbox_id=inbox_id) for inbox_id in ids]


def test_comment_webhook_ends_staleness_without_a_sync(
    app_client: TestClient, app_store: Store, jira_sandbox: JiraSandbox, hooked_source: int
) -> None:
    item_id, _, key, _ = pick_in_progress(app_store, hooked_source)
    went_stale(app_store, jira_sandbox, hooked_source, item_id)
    jira_sandbox.sink.deliveries.clear()
    comment(jira_sandbox, key)

    statuses = deliver_all(app_client, jira_sandbox, app_store)
    evaluate(app_store, jira_sandbox, hooked_source)

    assert statuses == [InboxStatus.PROCESSED]
    assert not stale(app_store, item_id)


def test_comment_webhooks_in_any_order_end_where_jira_is(
    app_client: TestClient, app_store: Store, jira_sandbox: JiraSandbox, hooked_source: int
) -> None:
    _, external_id, key, _ = pick_in_progress(app_store, hooked_source)
    jira_sandbox.sink.deliveries.clear()
    kept = comment(jira_sandbox, key)
    gone = comment(jira_sandbox, key)
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 60})
    jira_sandbox.control("PATCH", f"/jira/comments/{kept}", {"text": "Revised"})
    jira_sandbox.control("DELETE", f"/jira/comments/{gone}")
    jira_sandbox.sink.deliveries.reverse()

    statuses = deliver_all(app_client, jira_sandbox, app_store)

    assert statuses == [InboxStatus.PROCESSED] * 4
    with app_store.sessions() as session:
        stored = list_item_activity(session, source_id=hooked_source, item_external_id=external_id)
    comments = {a.external_id: a for a in stored if a.kind is ActivityKind.COMMENT}
    assert set(comments) == {kept}
    assert (comments[kept].created_at, comments[kept].updated_at) == comment_times(jira_sandbox, kept)
    assert comments[kept].updated_at > comments[kept].created_at


def test_comment_webhook_body_is_not_kept_in_the_inbox(
    app_client: TestClient, app_store: Store, jira_sandbox: JiraSandbox, hooked_source: int
) -> None:
    _, _, key, _ = pick_in_progress(app_store, hooked_source)
    jira_sandbox.sink.deliveries.clear()
    comment(jira_sandbox, key)

    deliver_all(app_client, jira_sandbox, app_store)

    with app_store.sessions() as session:
        bodies = list(session.scalars(select(InboxRow.body)))
    assert bodies and not any(BODY.encode() in body for body in bodies)
