"""The push-back budget end to end: issues on the Jira sandbox, synced over loopback, evaluated by a
rule file, comments posted through the outbox; and a dismissed flag that stays dismissed."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from connectors.http import RetryPolicy
from service.domain.enums import FlagListState, PushState, PushWait
from service.domain.signals import Flag
from service.flags.evaluate import EvaluationSummary, evaluate_project
from service.flags.listing import FlagFilter, list_flags_for_operator
from service.flags.push import drain_pushes
from service.flags.push_queue import enable_push, queue_flag_push
from service.flags.rulesets import load_rule_text
from service.flags.triage import dismiss
from service.rules.pack import BUILTIN_BY_ID
from service.store.db import Session, transaction
from service.store.orm import FlagRow, OutboxRow, ProjectRow, WorkItemRow
from service.store.runtime import Store
from service.sync.runs import sync_source_now
from tests.support.flags import FLAG_PROPERTY
from tests.support.jira_sandbox import JiraSandbox

FAST = RetryPolicy.without_waiting(max_retry_after=0.0)
# Only two custom rules, so the flags raised are exactly the issues labelled: `risk` (warning) and
# `risk-high` (critical). Their fingerprint covers the labels the condition reads.
RULES = (
    "builtin:\n"
    + "".join(f"  {rule_id}:\n    enabled: false\n" for rule_id in sorted(BUILTIN_BY_ID))
    + """rules:
  - id: labelled_risk
    applies_to: item
    when: "'risk' in item.labels"
    severity: warning
    message: "{item.key} is labelled a risk"
    push_to_jira: true
  - id: labelled_high_risk
    applies_to: item
    when: "'risk-high' in item.labels"
    severity: critical
    message: "{item.key} is labelled a high risk"
    push_to_jira: true
"""
)


def _queue(session: Session, flag: Flag, now: datetime) -> None:
    queue_flag_push(session, flag=flag, now=now)


def _new_issue(jira_sandbox: JiraSandbox, project: str, labels: list[str]) -> str:
    """A new issue with `labels`, in an open version of its own: so its flag stays its own (issues
    flagged together in one milestone, or in none, make one flag on it or on their project)."""
    key = str(
        jira_sandbox.control("POST", "/jira/issues", {"project": project, "summary": "Work"}).json()["key"]
    )
    world = jira_sandbox.sandbox.jira
    with world.lock:
        world.add_version(world.project_by_key[project], f"Release {key}")
    jira_sandbox.control("PATCH", f"/jira/issues/{key}", {"labels": labels, "fixVersions": f"Release {key}"})
    return key


def _label(jira_sandbox: JiraSandbox, key: str, labels: list[str]) -> None:
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 60})
    jira_sandbox.control("PATCH", f"/jira/issues/{key}", {"labels": labels})


def _project(jira_sandbox: JiraSandbox) -> str:
    return next(iter(jira_sandbox.sandbox.jira.projects.values())).key


def _project_id(store: Store, key: str) -> int:
    with store.sessions() as session:
        project_id = session.scalars(select(ProjectRow.id).where(ProjectRow.key == key)).one()
    return int(project_id)


def _evaluate(store: Store, jira_sandbox: JiraSandbox, source_id: int, project_id: int) -> EvaluationSummary:
    sync_source_now(store, source_id=source_id, full=True)
    return evaluate_project(
        store,
        project_id=project_id,
        rule_set=load_rule_text(RULES, source_name="rules"),
        now=jira_sandbox.sandbox.clock.now(),
        on_flag_changed=_queue,
    )


def _comments_by_flag(jira_sandbox: JiraSandbox) -> Counter[int]:
    world = jira_sandbox.sandbox.jira
    with world.lock:
        return Counter(
            int(marker["flag_id"])
            for comment in world.comments.values()
            if isinstance(marker := comment.properties.get(FLAG_PROPERTY), dict)
        )


def _statuses(store: Store, project: str, at: datetime) -> dict[int, tuple[PushState, PushWait | None]]:
    with store.sessions() as session:
        listed = list_flags_for_operator(
            session, filters=FlagFilter(project=project, state=FlagListState.OPEN), now=at, limit=None
        )
    return {f.flag.id or 0: (f.push.state, f.push.reason) for f in listed}


def _flag_of(store: Store, key: str) -> FlagRow:
    with store.sessions() as session:
        row = session.scalars(
            select(FlagRow)
            .join(WorkItemRow, WorkItemRow.id == FlagRow.subject_id)
            .where(WorkItemRow.key == key, FlagRow.subject == "item")
            .order_by(FlagRow.id.desc())
        ).first()
        assert row is not None
        return row


def _next_day(at: datetime) -> datetime:
    return (at + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def project(store: Store, jira_sandbox: JiraSandbox, jira_source_id: int) -> str:
    """The sandbox's first project, synced, with push-back on at the default budget."""
    key = _project(jira_sandbox)
    sync_source_now(store, source_id=jira_source_id, full=True)
    with transaction(store.sessions) as session:
        enable_push(
            session, project_id=_project_id(store, key), dry_run=False, now=jira_sandbox.sandbox.clock.now()
        )
    return key


def test_twelve_flags_in_a_day_post_five_a_day_highest_severity_first_never_twice(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int, project: str
) -> None:
    critical = [_new_issue(jira_sandbox, project, ["risk-high"]) for _ in range(3)]
    warnings = [_new_issue(jira_sandbox, project, ["risk"]) for _ in range(9)]
    summary = _evaluate(store, jira_sandbox, jira_source_id, _project_id(store, project))
    assert summary.opened == 12
    day1 = _next_day(jira_sandbox.sandbox.clock.now())  # a morning: two hours later is the same day

    first = drain_pushes(store, now=day1, retry=FAST)
    again = drain_pushes(store, now=day1 + timedelta(hours=2), retry=FAST)

    assert (first.created, first.waiting) == (5, 7)
    assert (again.created, again.waiting) == (0, 7)
    posted = set(_comments_by_flag(jira_sandbox))
    assert {_flag_of(store, key).id for key in critical} <= posted  # the critical ones went first
    assert {_flag_of(store, key).id for key in warnings[:2]} <= posted  # then the oldest warnings
    statuses = _statuses(store, project, day1 + timedelta(hours=2))
    assert Counter(statuses.values()) == {
        (PushState.POSTED, None): 5,
        (PushState.WAITING, PushWait.BUDGET): 7,
    }

    day2 = _next_day(day1)
    second = drain_pushes(store, now=day2, retry=FAST)
    day3 = _next_day(day2)
    third = drain_pushes(store, now=day3, retry=FAST)
    fourth = drain_pushes(store, now=day3 + timedelta(hours=3), retry=FAST)

    assert (second.created, third.created, fourth.created) == (5, 2, 0)
    comments = _comments_by_flag(jira_sandbox)
    assert len(comments) == 12 and set(comments.values()) == {1}  # each flag once, never twice
    assert Counter(s for s, _ in _statuses(store, project, day3).values()) == {PushState.POSTED: 12}
    with store.sessions() as session:
        statuses_of_rows = Counter(session.scalars(select(OutboxRow.status)))
    assert statuses_of_rows == {"done": 12}


def test_dismissed_flag_raises_nothing_for_the_same_evidence_and_comes_back_when_it_changes(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int, project: str
) -> None:
    project_id = _project_id(store, project)
    key = _new_issue(jira_sandbox, project, ["risk"])
    _evaluate(store, jira_sandbox, jira_source_id, project_id)
    flag = _flag_of(store, key)
    with transaction(store.sessions) as session:
        dismiss(session, flag_id=flag.id, reason="false_positive", now=jira_sandbox.sandbox.clock.now())

    still = _evaluate(store, jira_sandbox, jira_source_id, project_id)  # the same evidence, still open
    _label(jira_sandbox, key, [])
    gone = _evaluate(store, jira_sandbox, jira_source_id, project_id)  # it resolves
    _label(jira_sandbox, key, ["risk"])
    back_same = _evaluate(store, jira_sandbox, jira_source_id, project_id)  # the same evidence again
    drained = drain_pushes(store, now=jira_sandbox.sandbox.clock.now(), retry=FAST)

    assert (still.opened, still.updated, gone.resolved) == (0, 0, 1)
    assert (back_same.opened, back_same.suppressed) == (0, 1)
    assert _flag_of(store, key).id == flag.id
    assert drained.created == 0 and _comments_by_flag(jira_sandbox) == {}

    _label(jira_sandbox, key, ["risk", "escalated"])
    changed = _evaluate(store, jira_sandbox, jira_source_id, project_id)
    drain_pushes(store, now=jira_sandbox.sandbox.clock.now(), retry=FAST)

    new_flag = _flag_of(store, key)
    assert changed.opened == 1 and new_flag.id != flag.id
    assert _comments_by_flag(jira_sandbox) == {new_flag.id: 1}
