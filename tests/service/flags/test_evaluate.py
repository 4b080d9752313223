"""Rules over synced data: flags open once, update in place, resolve; the ledger and the feed follow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sandbox.app import Sandbox
from service.domain.enums import SourceKind
from service.flags.run import evaluate_projects
from service.store.db import transaction
from service.store.orm import (
    ClientRow,
    ClientScopeRow,
    CommitmentRow,
    FeedEventRow,
    FlagRow,
    ProjectRow,
    WorkItemRow,
)
from service.store.runtime import Store
from service.sync.runs import sync_source_now
from tests.support.jira_sandbox import JiraSandbox, first_seed_where, serve_jira_sandbox
from tests.support.sources import add_test_source


def flags(store: Store, *, state: str = "open") -> list[tuple[str, str, int]]:
    with store.sessions() as session:
        rows = session.execute(
            select(FlagRow.rule_id, FlagRow.subject, FlagRow.subject_id).where(FlagRow.state == state)
        )
        return sorted(tuple(r) for r in rows)  # type: ignore[misc]


def count(store: Store, model: type) -> int:
    with store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def sandbox_now(jira_sandbox: JiraSandbox) -> datetime:
    return jira_sandbox.sandbox.clock.now()


def later_the_same_day(now: datetime) -> datetime:
    """An hour later, or halfway to midnight: rules count days, and a new day may rightly open flags."""
    hour_later = now + timedelta(hours=1)
    if hour_later.date() == now.date():
        return hour_later
    midnight = datetime.combine(hour_later.date(), time.min, tzinfo=now.tzinfo)
    return now + (midnight - now) / 2


def overdue_issue(jira_sandbox: JiraSandbox) -> str:
    """A new issue in progress whose promised date passed a week ago."""
    project = next(iter(jira_sandbox.sandbox.jira.projects.values())).key
    key = str(
        jira_sandbox.control("POST", "/jira/issues", {"project": project, "summary": "Checkout"}).json()[
            "key"
        ]
    )
    past = (sandbox_now(jira_sandbox) - timedelta(days=7)).date().isoformat()
    jira_sandbox.control("POST", f"/jira/issues/{key}/duedate", {"duedate": past})
    jira_sandbox.control("POST", f"/jira/issues/{key}/status", {"status": "In Progress"})
    return key


def flag_of(store: Store, key: str, rule: str) -> FlagRow | None:
    with store.sessions() as session:
        return session.scalars(
            select(FlagRow)
            .join(WorkItemRow, WorkItemRow.id == FlagRow.subject_id)
            .where(WorkItemRow.key == key, FlagRow.rule_id == rule, FlagRow.subject == "item")
            .order_by(FlagRow.id.desc())
        ).first()


def test_evaluation_flags_an_overdue_promise_once(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    key = overdue_issue(jira_sandbox)
    sync_source_now(store, source_id=jira_source_id, full=True)
    now = sandbox_now(jira_sandbox)

    first = evaluate_projects(store, now=now, rules_dir=None, source_id=jira_source_id)
    again = evaluate_projects(store, now=later_the_same_day(now), rules_dir=None, source_id=jira_source_id)

    flag = flag_of(store, key, "overdue_commitment")
    assert flag is not None and flag.state == "open"
    assert sum(s.opened for s in first) == len(flags(store)) > 0
    assert sum(s.opened + s.resolved for s in again) == 0
    assert count(store, CommitmentRow) > 0


def test_evaluation_resolves_the_flag_when_the_promise_is_kept(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    key = overdue_issue(jira_sandbox)
    sync_source_now(store, source_id=jira_source_id, full=True)
    evaluate_projects(store, now=sandbox_now(jira_sandbox), rules_dir=None, source_id=jira_source_id)
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 60})
    jira_sandbox.control("POST", f"/jira/issues/{key}/status", {"status": "Done"})
    sync_source_now(store, source_id=jira_source_id, full=False)

    summaries = evaluate_projects(
        store, now=sandbox_now(jira_sandbox), rules_dir=None, source_id=jira_source_id
    )

    flag = flag_of(store, key, "overdue_commitment")
    assert flag is not None and flag.state == "resolved"
    assert sum(s.resolved for s in summaries) >= 1


def test_evaluation_feeds_events_to_a_scoped_client_only(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    overdue_issue(jira_sandbox)
    sync_source_now(store, source_id=jira_source_id, full=True)
    with transaction(store.sessions) as session:
        project_id = session.scalars(select(ProjectRow.id).order_by(ProjectRow.id)).first()
        scoped = ClientRow(name="Acme", created_at=datetime.now(UTC))
        other = ClientRow(name="Other", created_at=datetime.now(UTC))
        session.add_all([scoped, other])
        session.flush()
        session.add(ClientScopeRow(client_id=scoped.id, project_id=project_id, rule="all"))
        scoped_id, other_id = scoped.id, other.id

    evaluate_projects(store, now=sandbox_now(jira_sandbox), rules_dir=None, source_id=jira_source_id)
    evaluate_projects(store, now=sandbox_now(jira_sandbox), rules_dir=None, source_id=jira_source_id)

    with store.sessions() as session:
        clients = set(session.scalars(select(FeedEventRow.client_id)))
        kinds = set(session.scalars(select(FeedEventRow.kind)))
        keys = list(session.scalars(select(FeedEventRow.dedupe_key)))
    assert clients == {scoped_id} and other_id not in clients
    assert "milestone_progress" in kinds
    assert len(keys) == len(set(keys))


ONLY_OVERDUE = "builtin:\n" + "".join(
    f"  {rule_id}:\n    enabled: false\n"
    for rule_id in (
        "due_soon_not_started",
        "promised_date_moved",
        "forecast_misses_promise",
        "stale_in_progress",
        "blocked_too_long",
        "unassigned_high_priority",
        "scope_added_after_promise",
        "sprint_commitment_slipping",
        "reopened_after_done",
    )
)


def _has_overdue_promises(sandbox: Sandbox) -> bool:
    today = sandbox.clock.now().date().isoformat()
    return any(
        issue.status.category.key != "done" and issue.duedate is not None and issue.duedate < today
        for issue in sandbox.jira.issues.values()
    )


@pytest.fixture(scope="module")
def overdue_sandbox() -> Iterator[JiraSandbox]:
    """The tiny scenario of the first seed from 7 whose world has overdue promises today."""
    with serve_jira_sandbox("tiny", seed=first_seed_where(_has_overdue_promises)) as sandbox:
        yield sandbox


def test_evaluation_flags_exactly_the_overdue_promises_of_the_scenario(
    store: Store, overdue_sandbox: JiraSandbox, tmp_path: Path
) -> None:
    jira_sandbox = overdue_sandbox
    jira_source_id = add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="sandbox-jira",
        webhook_secret=jira_sandbox.sandbox.jira_webhook_secret,
        base_url=jira_sandbox.base_url,
        credentials={
            "email": jira_sandbox.sandbox.jira_email,
            "api_token": jira_sandbox.sandbox.jira_api_token,
        },
    )
    (tmp_path / "default.yaml").write_text(ONLY_OVERDUE)
    sync_source_now(store, source_id=jira_source_id, full=True)
    now = sandbox_now(jira_sandbox)
    # The oracle reads the sandbox's own state: unfinished issues whose promised date has passed.
    expected = {
        key
        for key, category, due, _assignee in jira_sandbox.snapshot().values()
        if category != "done" and due is not None and due < now.date().isoformat()
    }

    evaluate_projects(store, now=now, rules_dir=tmp_path, source_id=jira_source_id)

    with store.sessions() as session:
        flagged = set(
            session.scalars(
                select(WorkItemRow.key)
                .join(FlagRow, FlagRow.subject_id == WorkItemRow.id)
                .where(FlagRow.subject == "item", FlagRow.state == "open")
            )
        )
        rules = set(session.scalars(select(FlagRow.rule_id).where(FlagRow.subject == "item")))
    assert expected, "the tiny scenario has slipped promises"
    assert flagged == expected
    assert rules == {"overdue_commitment"}
