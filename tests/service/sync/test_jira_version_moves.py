"""A version's release date moved in Jira, seen by syncs over loopback: the store records the move
at the write that saw it, the milestone's promise counts it, and the clients who see the milestone
read it in their ledger and feed."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import func, select

from service.domain.enums import CommitmentSubject, FeedEventKind, ScopeRule, SourceKind
from service.flags.facts import load_project_snapshot
from service.flags.run import evaluate_projects
from service.store.client_views import list_commitments, read_grants
from service.store.db import transaction
from service.store.orm import FeedEventRow, MilestoneChangeRow, MilestoneRow
from service.store.projects import get_project_by_key
from service.store.runtime import Store
from service.store.tenancy import add_client, add_scope
from service.sync.runs import sync_source_now
from tests.support.jira_sandbox import JiraSandbox
from tests.support.sources import add_test_source

# The tiny scenario (seed 7) has version 10004, "BOR 1.1" of project BOR, due 2026-12-08 with two
# issues; ACM is the other project.
VERSION_ID = 10004
BASELINE = date(2026, 12, 8)
FIRST_MOVE = date(2026, 12, 22)
SECOND_MOVE = date(2027, 1, 5)


def _move_version(jira_sandbox: JiraSandbox, release_date: date) -> None:
    sandbox = jira_sandbox.sandbox
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 3600})
    response = httpx.put(
        f"{jira_sandbox.base_url}/rest/api/3/version/{VERSION_ID}",
        json={"releaseDate": release_date.isoformat()},
        auth=(sandbox.jira_email, sandbox.jira_api_token),
        timeout=10,
    )
    response.raise_for_status()


def _moves_recorded(store: Store) -> int:
    with store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(MilestoneChangeRow)) or 0)


def _feed_moves(store: Store, client_id: int) -> list[tuple[str, dict[str, object]]]:
    with store.sessions() as session:
        rows = session.execute(
            select(FeedEventRow.summary, FeedEventRow.payload)
            .where(
                FeedEventRow.client_id == client_id,
                FeedEventRow.kind == FeedEventKind.COMMITMENT_MOVED.value,
                FeedEventRow.milestone_id.is_not(None),
            )
            .order_by(FeedEventRow.occurred_at)
        )
        return [(summary, payload) for summary, payload in rows]


def test_a_moved_release_date_reaches_the_ledger_and_feed_of_the_clients_who_see_it(
    dialect_store: Store, jira_sandbox: JiraSandbox
) -> None:
    store, sandbox = dialect_store, jira_sandbox.sandbox
    assert sandbox.jira.versions[VERSION_ID].release_date == BASELINE.isoformat()
    source_id = add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="sandbox-jira",
        webhook_secret=sandbox.jira_webhook_secret,
        base_url=jira_sandbox.base_url,
        credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
    )
    sync_source_now(store, source_id=source_id, full=True)
    with transaction(store.sessions) as session:
        bor = get_project_by_key(session, key="BOR", source_id=source_id)
        acm = get_project_by_key(session, key="ACM", source_id=source_id)
        assert bor.id is not None and acm.id is not None
        sees = add_client(session, name="bor-client", now=sandbox.clock.now())
        other = add_client(session, name="acm-client", now=sandbox.clock.now())
        assert sees.id is not None and other.id is not None
        add_scope(session, client_id=sees.id, project_id=bor.id, rule=ScopeRule.ALL, value=None)
        add_scope(session, client_id=other.id, project_id=acm.id, rule=ScopeRule.ALL, value=None)
        milestone_id = session.scalars(
            select(MilestoneRow.id).where(
                MilestoneRow.source_id == source_id, MilestoneRow.external_id == f"version:{VERSION_ID}"
            )
        ).one()
    evaluate_projects(store, now=sandbox.clock.now(), rules_dir=None, source_id=source_id)
    # The first date of a version the store had not seen is its baseline, not a move.
    assert _moves_recorded(store) == 0

    # An incremental run reads the versions again; a full one reads them anyway.
    _move_version(jira_sandbox, FIRST_MOVE)
    sync_source_now(store, source_id=source_id, full=False)
    assert _moves_recorded(store) == 1
    _move_version(jira_sandbox, SECOND_MOVE)
    sync_source_now(store, source_id=source_id, full=True)
    # Syncs that find nothing moved record nothing more.
    sync_source_now(store, source_id=source_id, full=False)
    sync_source_now(store, source_id=source_id, full=True)
    assert _moves_recorded(store) == 2
    now = sandbox.clock.now()
    evaluate_projects(store, now=now, rules_dir=None, source_id=source_id)
    evaluate_projects(store, now=now, rules_dir=None, source_id=source_id)

    with store.sessions() as session:
        snapshot = load_project_snapshot(session, project_id=bor.id, now=now)
        facts = next(m for m in snapshot.milestones if m.milestone.id == milestone_id)
        assert facts.commitment is not None
        assert (facts.commitment.baseline_date, facts.commitment.current_date) == (BASELINE, SECOND_MOVE)
        assert facts.commitment.slip_count == 2
        assert [(m.from_date, m.to_date) for m in facts.commitment.moves] == [
            (BASELINE, FIRST_MOVE),
            (FIRST_MOVE, SECOND_MOVE),
        ]

        ledger = [
            view.commitment
            for view in list_commitments(session, read_grants(session, client_id=sees.id))
            if view.commitment.subject is CommitmentSubject.MILESTONE
            and view.commitment.subject_id == milestone_id
        ]
        assert [(c.baseline_date, c.current_date, c.slip_count) for c in ledger] == [
            (BASELINE, SECOND_MOVE, 2)
        ]
        assert [(m.from_date, m.to_date) for m in ledger[0].moves] == [
            (BASELINE, FIRST_MOVE),
            (FIRST_MOVE, SECOND_MOVE),
        ]
        assert not [
            view
            for view in list_commitments(session, read_grants(session, client_id=other.id))
            if view.commitment.subject is CommitmentSubject.MILESTONE
            and view.commitment.subject_id == milestone_id
        ]

    name = "BOR 1.1"
    assert _feed_moves(store, sees.id) == [
        (
            f"{name}: promised date moved from {BASELINE} to {FIRST_MOVE}",
            {"milestone": name, "from": BASELINE.isoformat(), "to": FIRST_MOVE.isoformat(), "days": 14},
        ),
        (
            f"{name}: promised date moved from {FIRST_MOVE} to {SECOND_MOVE}",
            {"milestone": name, "from": FIRST_MOVE.isoformat(), "to": SECOND_MOVE.isoformat(), "days": 14},
        ),
    ]
    assert _feed_moves(store, other.id) == []
