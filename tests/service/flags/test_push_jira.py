"""Flag comments on the Jira sandbox: one per flag, marked by a property, edited in place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from connectors.http import RetryPolicy
from sandbox.jira.model import Comment
from service.domain.enums import SourceKind
from service.flags.push import DRY_RUN_REF, MAX_ATTEMPTS, drain_pushes
from service.flags.push_queue import queue_flag_push
from service.store.db import transaction
from service.store.orm import FlagRow, WorkItemRow
from service.store.projects import update_project_push_settings
from service.store.runtime import Store
from tests.support.flags import (
    NOW,
    add_flag,
    add_sandbox_items,
    api_requests,
    as_flag,
    change_flag,
    comment_text,
    flag_comments,
    get_flag,
    outbox_rows,
    resolve,
    sandbox_issues,
)
from tests.support.jira_sandbox import JiraSandbox
from tests.support.sources import add_test_source

ENABLED = {"enabled": True, "dry_run": False}
FAST = RetryPolicy.without_waiting(max_retry_after=0.0)
CREATE_V3 = "POST /rest/api/3/issue/{issueIdOrKey}/comment"


def _open_flag(store: Store, item_id: int, *, rule_id: str = "overdue_commitment") -> int:
    with transaction(store.sessions) as session:
        flag = add_flag(session, subject_id=item_id, rule_id=rule_id)
        queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
        return flag.id


def _edit(store: Store, flag_id: int, *, days_overdue: int | None = None, resolved: bool = False) -> None:
    with transaction(store.sessions) as session:
        flag = session.get(FlagRow, flag_id)
        assert flag is not None
        if days_overdue is not None:
            change_flag(session, flag, days_overdue=days_overdue)
        if resolved:
            resolve(session, flag)
        queue_flag_push(session, flag=as_flag(session, flag), now=NOW)


def _project_of(session: Session, item_id: int) -> int:
    item = session.get(WorkItemRow, item_id)
    assert item is not None
    return item.project_id


def _one_comment(jira_sandbox: JiraSandbox, flag_id: int) -> Comment:
    [comment] = flag_comments(jira_sandbox, flag_id)
    return comment


@pytest.fixture
def item_id(store: Store, jira_sandbox: JiraSandbox, jira_source_id: int) -> int:
    [item] = add_sandbox_items(
        store, source_id=jira_source_id, issues=sandbox_issues(jira_sandbox, 1), push=ENABLED
    )
    return item


def test_drain_pushes_new_flag_posts_one_internal_comment_with_the_flag_property(
    store: Store, jira_sandbox: JiraSandbox, item_id: int
) -> None:
    flag_id = _open_flag(store, item_id)

    summary = drain_pushes(store, now=NOW, retry=FAST)

    assert summary.created == 1
    comment = _one_comment(jira_sandbox, flag_id)
    flag = get_flag(store, flag_id)
    assert comment.properties["pmbridge.flag"] == {"flag_id": flag_id, "fingerprint": flag.fingerprint}
    assert comment.properties["sd.public.comment"] == {"internal": True}
    assert comment_text(comment).startswith("Risk (critical): Item is 3 day(s) past")
    assert (flag.pushed_comment_id, flag.pushed_fingerprint) == (str(comment.id), f"{flag.fingerprint}:open")
    assert [(row.status, row.external_ref) for row in outbox_rows(store)] == [("done", str(comment.id))]


def test_drain_pushes_evidence_change_edits_the_same_comment(
    store: Store, jira_sandbox: JiraSandbox, item_id: int
) -> None:
    flag_id = _open_flag(store, item_id)
    drain_pushes(store, now=NOW, retry=FAST)
    _edit(store, flag_id, days_overdue=9)

    summary = drain_pushes(store, now=NOW, retry=FAST)

    assert (summary.updated, summary.created) == (1, 0)
    comment = _one_comment(jira_sandbox, flag_id)
    assert "days overdue: 9" in comment_text(comment)
    assert comment.properties["pmbridge.flag"]["fingerprint"] == get_flag(store, flag_id).fingerprint


def test_drain_pushes_resolved_flag_edits_the_comment_to_say_resolved(
    store: Store, jira_sandbox: JiraSandbox, item_id: int
) -> None:
    flag_id = _open_flag(store, item_id)
    drain_pushes(store, now=NOW, retry=FAST)
    _edit(store, flag_id, resolved=True)

    summary = drain_pushes(store, now=NOW, retry=FAST)

    assert summary.updated == 1
    assert comment_text(_one_comment(jira_sandbox, flag_id)).startswith("Resolved: ")
    assert get_flag(store, flag_id).pushed_fingerprint.endswith(":resolved")  # type: ignore[union-attr]


def test_drain_pushes_nothing_new_sends_no_write(
    store: Store, jira_sandbox: JiraSandbox, item_id: int
) -> None:
    _open_flag(store, item_id)
    drain_pushes(store, now=NOW, retry=FAST)
    before = api_requests(jira_sandbox)

    summary = drain_pushes(store, now=NOW + timedelta(hours=1), retry=FAST)

    assert summary.to_json() == dict.fromkeys(summary.to_json(), 0)
    assert api_requests(jira_sandbox) == before


def test_drain_pushes_two_flags_on_one_issue_get_a_comment_each(
    store: Store, jira_sandbox: JiraSandbox, item_id: int
) -> None:
    first = _open_flag(store, item_id)
    second = _open_flag(store, item_id, rule_id="stale_in_progress")

    drain_pushes(store, now=NOW, retry=FAST)

    assert len(flag_comments(jira_sandbox, first)) == len(flag_comments(jira_sandbox, second)) == 1


def test_drain_pushes_changes_queued_before_a_drain_post_only_the_latest_state(
    store: Store, jira_sandbox: JiraSandbox, item_id: int
) -> None:
    flag_id = _open_flag(store, item_id)
    _edit(store, flag_id, days_overdue=4)
    _edit(store, flag_id, resolved=True)

    summary = drain_pushes(store, now=NOW, retry=FAST)

    assert (summary.created, summary.skipped) == (1, 2)
    assert comment_text(_one_comment(jira_sandbox, flag_id)).startswith("Resolved: ")


def test_drain_pushes_data_center_source_posts_plain_text(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    dc_source = add_test_source(
        store,
        kind=SourceKind.JIRA_DATA_CENTER,
        name="sandbox-dc",
        webhook_secret=None,
        base_url=jira_sandbox.base_url,
        credentials={"token": jira_sandbox.sandbox.jira_pat},
    )
    [item] = add_sandbox_items(
        store, source_id=dc_source, issues=sandbox_issues(jira_sandbox, 1), push=ENABLED
    )
    flag_id = _open_flag(store, item)

    assert drain_pushes(store, now=NOW, retry=FAST).created == 1

    requests = api_requests(jira_sandbox)
    assert requests.get("POST /rest/api/2/issue/{issueIdOrKey}/comment") == 1
    assert CREATE_V3 not in requests
    text = comment_text(_one_comment(jira_sandbox, flag_id))
    assert "Evidence:\n- promised date: 2026-11-20" in text


def test_drain_pushes_dry_run_project_renders_and_calls_nothing(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    issues = sandbox_issues(jira_sandbox, 1)
    [item] = add_sandbox_items(
        store, source_id=jira_source_id, issues=issues, push={"enabled": True, "dry_run": True}
    )
    flag_id = _open_flag(store, item)

    summary = drain_pushes(store, now=NOW, retry=FAST)

    assert summary.dry_run == 1
    assert api_requests(jira_sandbox) == {}
    assert [(row.status, row.external_ref) for row in outbox_rows(store)] == [("done", DRY_RUN_REF)]
    assert get_flag(store, flag_id).pushed_comment_id is None


def test_drain_pushes_rate_limited_row_is_rescheduled_then_posted(
    store: Store, jira_sandbox: JiraSandbox, item_id: int
) -> None:
    flag_id = _open_flag(store, item_id)
    jira_sandbox.control(
        "POST", "/faults", {"route": CREATE_V3, "kind": "rate_limit", "retry_after_s": 1, "times": 1}
    )

    first = drain_pushes(store, now=NOW, retry=FAST)
    [row] = outbox_rows(store)
    too_early = drain_pushes(store, now=NOW, retry=FAST)
    later = drain_pushes(store, now=NOW + timedelta(seconds=2), retry=FAST)

    assert (first.rescheduled, row.status, row.next_attempt_at) == (1, "pending", NOW + timedelta(seconds=1))
    assert too_early.to_json() == dict.fromkeys(too_early.to_json(), 0)
    assert later.created == 1
    assert len(flag_comments(jira_sandbox, flag_id)) == 1


def test_drain_pushes_missing_issue_dies_after_max_attempts(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    [item] = add_sandbox_items(store, source_id=jira_source_id, issues=[("ACM-9999", "99999")], push=ENABLED)
    _open_flag(store, item)

    dead = 0
    for attempt in range(MAX_ATTEMPTS):
        dead += drain_pushes(store, now=NOW + timedelta(hours=2 * attempt), retry=FAST).dead

    [row] = outbox_rows(store)
    assert (dead, row.status, row.attempts) == (1, "dead", MAX_ATTEMPTS)
    assert row.last_error is not None and "404" in row.last_error


def test_drain_pushes_comment_deleted_on_the_site_is_posted_again(
    store: Store, jira_sandbox: JiraSandbox, item_id: int
) -> None:
    flag_id = _open_flag(store, item_id)
    drain_pushes(store, now=NOW, retry=FAST)
    world = jira_sandbox.sandbox.jira
    with world.lock:
        world.delete_comment(_one_comment(jira_sandbox, flag_id))
    _edit(store, flag_id, days_overdue=6)

    summary = drain_pushes(store, now=NOW, retry=FAST)

    assert summary.created == 1
    assert get_flag(store, flag_id).pushed_comment_id == str(_one_comment(jira_sandbox, flag_id).id)


def test_drain_pushes_project_switched_off_after_queueing_skips_the_row(
    store: Store, jira_sandbox: JiraSandbox, item_id: int
) -> None:
    flag_id = _open_flag(store, item_id)
    with transaction(store.sessions) as session:
        flag = session.get(FlagRow, flag_id)
        assert flag is not None
        update_project_push_settings(
            session, project_id=_project_of(session, item_id), settings={"enabled": False}
        )

    summary = drain_pushes(store, now=NOW, retry=FAST)

    assert summary.skipped == 1
    assert api_requests(jira_sandbox) == {}
