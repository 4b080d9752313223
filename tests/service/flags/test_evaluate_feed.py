"""What an evaluation publishes to the feed: the derived drafts, fanned out to the scoped client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service.flags.run import evaluate_projects
from service.store.db import transaction
from service.store.flags import publish_flag
from service.store.orm import ClientRow, ClientScopeRow, FeedEventRow, FlagRow, ProjectRow, WorkItemRow
from service.store.runtime import Store
from service.sync.runs import sync_source_now
from tests.support.jira_sandbox import JiraSandbox


def overdue_issue(jira_sandbox: JiraSandbox) -> str:
    """A new issue in progress whose promised date passed a week ago."""
    project = next(iter(jira_sandbox.sandbox.jira.projects.values())).key
    created = jira_sandbox.control("POST", "/jira/issues", {"project": project, "summary": "Checkout"})
    key = str(created.json()["key"])
    past = (jira_sandbox.sandbox.clock.now() - timedelta(days=7)).date().isoformat()
    jira_sandbox.control("POST", f"/jira/issues/{key}/duedate", {"duedate": past})
    jira_sandbox.control("POST", f"/jira/issues/{key}/status", {"status": "In Progress"})
    return key


def scoped_client(store: Store, *, project_key: str) -> int:
    with transaction(store.sessions) as session:
        project_id = session.scalars(select(ProjectRow.id).where(ProjectRow.key == project_key)).one()
        client = ClientRow(name="Acme", created_at=datetime.now(UTC))
        session.add(client)
        session.flush()
        session.add(ClientScopeRow(client_id=client.id, project_id=project_id, rule="all"))
        return client.id


def risk_events(store: Store) -> list[FeedEventRow]:
    with store.sessions() as session:
        return list(
            session.scalars(
                select(FeedEventRow).where(FeedEventRow.kind == "risk_resolved").order_by(FeedEventRow.id)
            )
        )


def test_a_published_risk_that_resolves_reaches_the_scoped_client_once(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    key = overdue_issue(jira_sandbox)
    sync_source_now(store, source_id=jira_source_id, full=True)
    client_id = scoped_client(store, project_key=key.split("-")[0])
    evaluate_projects(store, now=jira_sandbox.sandbox.clock.now(), rules_dir=None, source_id=jira_source_id)
    with transaction(store.sessions) as session:
        flag_id = session.scalars(
            select(FlagRow.id)
            .join(WorkItemRow, WorkItemRow.id == FlagRow.subject_id)
            .where(WorkItemRow.key == key, FlagRow.rule_id == "overdue_commitment", FlagRow.subject == "item")
        ).one()
        publish_flag(
            session,
            flag_id=flag_id,
            client_text="Checkout is running late",
            now=jira_sandbox.sandbox.clock.now(),
        )
    assert risk_events(store) == []

    jira_sandbox.control("POST", "/clock/advance", {"seconds": 60})
    jira_sandbox.control("POST", f"/jira/issues/{key}/status", {"status": "Done"})
    sync_source_now(store, source_id=jira_source_id, full=False)
    resolved_at = jira_sandbox.sandbox.clock.now()
    evaluate_projects(store, now=resolved_at, rules_dir=None, source_id=jira_source_id)
    evaluate_projects(store, now=resolved_at + timedelta(minutes=5), rules_dir=None, source_id=jira_source_id)

    [event] = risk_events(store)
    assert event.client_id == client_id
    assert event.dedupe_key == f"risk_resolved:{flag_id}"
    assert event.summary == "Resolved: Checkout is running late"
    assert event.payload == {"flag_id": flag_id, "text": "Checkout is running late"}
    assert event.occurred_at == resolved_at
