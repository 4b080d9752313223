"""A worker killed around the comment write still leaves exactly one comment per flag.

The kill is a `BaseException` nothing in the drain handles, raised at one of three points: before
the write leaves, after the site received it (the response is dropped), and after the response
arrived but before the outcome is committed (the flag's UPDATE raises inside its transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from connectors.http import RetryPolicy
from service.flags.push import CLAIM_LEASE, IN_FLIGHT_RECHECK, PushSummary, drain_pushes
from service.flags.push_queue import queue_flag_push
from service.store.db import transaction
from service.store.orm import FlagRow
from service.store.runtime import Store
from tests.support.flags import (
    NOW,
    add_flag,
    add_sandbox_items,
    as_flag,
    change_flag,
    comment_text,
    flag_comments,
    get_flag,
    resolve,
    sandbox_issues,
)
from tests.support.jira_sandbox import JiraSandbox

FAST = RetryPolicy.without_waiting(max_retry_after=0.0)
FLAGS = 4
# Each flag opens, changes and resolves: three pushes, each interrupted once.
STEPS = ("open", "change", "resolve")


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an `Exception`, so no handler in the drain catches it."""


def _is_comment_write(request: httpx.Request) -> bool:
    path = request.url.path
    return request.method in ("POST", "PUT") and "/comment" in path and not path.endswith("/comment/list")


class KillingTransport(httpx.BaseTransport):
    """Kills the worker at the first comment write, before it is sent or after the site answered."""

    def __init__(self, *, after_sending: bool) -> None:
        self.inner = httpx.HTTPTransport()
        self.after_sending = after_sending
        self.armed = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not (self.armed and _is_comment_write(request)):
            return self.inner.handle_request(request)
        self.armed = False
        if not self.after_sending:
            raise WorkerKilled
        self.inner.handle_request(request).read()
        raise WorkerKilled

    def close(self) -> None:
        self.inner.close()


@contextmanager
def killed_before_commit(store: Store) -> Iterator[None]:
    """The first UPDATE recording a pushed comment raises inside its transaction."""
    armed = [True]

    def before_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if armed[0] and statement.lstrip().upper().startswith("UPDATE FLAGS SET PUSHED_COMMENT_ID"):
            armed[0] = False
            raise WorkerKilled

    event.listen(store.engine, "before_cursor_execute", before_execute)
    try:
        yield
    finally:
        event.remove(store.engine, "before_cursor_execute", before_execute)


def _apply(store: Store, step: str, *, item_id: int, flag_id: int | None, round_: int) -> int:
    with transaction(store.sessions) as session:
        if flag_id is None:
            flag = add_flag(session, subject_id=item_id)
        else:
            found = session.get(FlagRow, flag_id)
            assert found is not None
            flag = found
            if step == "change":
                change_flag(session, flag, days_overdue=10 + round_)
            else:
                resolve(session, flag)
        queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
        return flag.id


def _drain_killed(store: Store, point: str, *, now: datetime) -> None:
    with pytest.raises(WorkerKilled):
        if point == "before-commit":
            with killed_before_commit(store):
                drain_pushes(store, now=now, retry=FAST)
        else:
            transport = KillingTransport(after_sending=point == "after-sending")
            drain_pushes(store, now=now, transport=transport, retry=FAST)


def _assert_one_comment_each(store: Store, jira_sandbox: JiraSandbox, flag_ids: list[int]) -> None:
    for flag_id in flag_ids:
        [comment] = flag_comments(jira_sandbox, flag_id)
        flag = get_flag(store, flag_id)
        assert flag.pushed_comment_id == str(comment.id)
        assert comment.properties["pmbridge.flag"]["fingerprint"] == flag.fingerprint
        assert comment_text(comment).startswith("Resolved: ") is (flag.state == "resolved")


KILL_POINTS = ["before-sending", "after-sending", "before-commit"]


@pytest.mark.parametrize("point", KILL_POINTS, ids=KILL_POINTS)
def test_drain_pushes_worker_killed_around_the_write_leaves_one_comment_per_flag(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int, point: str
) -> None:
    issues = sandbox_issues(jira_sandbox, FLAGS)
    items = add_sandbox_items(store, source_id=jira_source_id, issues=issues, push={"enabled": True})
    flag_ids: list[int] = []
    now = NOW
    for round_, item_id in enumerate(items):
        flag_id: int | None = None
        for step in STEPS:
            flag_id = _apply(store, step, item_id=item_id, flag_id=flag_id, round_=round_)
            _drain_killed(store, point, now=now)
            # The killed worker's claim holds the row until its lease ends.
            now += CLAIM_LEASE + timedelta(seconds=1)
            summary = drain_pushes(store, now=now, retry=FAST)
            assert summary.rescheduled == summary.dead == 0
            if step == "open":
                flag_ids.append(flag_id)
            _assert_one_comment_each(store, jira_sandbox, flag_ids)


class SecondWorkerTransport(httpx.BaseTransport):
    """At the first comment write, before sending it, another worker drains the same outbox."""

    def __init__(self, store: Store, *, now: datetime) -> None:
        self.inner = httpx.HTTPTransport()
        self.store = store
        self.now = now
        self.second: PushSummary | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.second is None and _is_comment_write(request):
            self.second = drain_pushes(self.store, now=self.now, retry=FAST)
        return self.inner.handle_request(request)


def test_drain_pushes_two_workers_on_two_states_of_one_flag_post_one_comment(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    [item_id] = add_sandbox_items(
        store, source_id=jira_source_id, issues=sandbox_issues(jira_sandbox, 1), push={"enabled": True}
    )
    with transaction(store.sessions) as session:
        flag = add_flag(session, subject_id=item_id)
        queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
        # The flag changes before its first comment is posted: a second row, of its new state.
        change_flag(session, flag, days_overdue=9)
        queue_flag_push(session, flag=as_flag(session, flag), now=NOW)
        flag_id = flag.id

    transport = SecondWorkerTransport(store, now=NOW)
    first = drain_pushes(store, now=NOW, transport=transport, retry=FAST)
    later = drain_pushes(store, now=NOW + IN_FLIGHT_RECHECK, retry=FAST)

    # The second worker found the first comment in flight and waited; the first had posted the
    # flag's latest state already, so the waiting row had nothing left to do.
    assert transport.second is not None
    assert (transport.second.created, transport.second.waiting) == (0, 1)
    assert (first.created, later.created, later.updated, later.skipped) == (1, 0, 0, 1)
    _assert_one_comment_each(store, jira_sandbox, [flag_id])
