"""Jira worklogs synced end to end against the sandbox over loopback, and the burn they make."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service.domain.enums import ScopeRule
from service.feed.kpis import compute_kpis
from service.store.client_views import read_grants
from service.store.db import transaction
from service.store.orm import ProjectRow, WorkItemRow
from service.store.runtime import Store
from service.store.sources import update_source_settings
from service.store.tenancy import add_client, add_scope
from service.store.worklogs import list_worklogs, save_worklogs
from service.sync.runs import sync_source_now
from tests.service.store.test_worklogs import make_worklog
from tests.support.jira_sandbox import JiraSandbox

HOUR = 3600
WORKLOGS_DELETED = "GET /rest/api/3/worklog/deleted"


def _remote(jira_sandbox: JiraSandbox, *, project: str | None = None) -> set[tuple[str, str, int, datetime]]:
    world = jira_sandbox.sandbox.jira
    with world.lock:
        return {
            (
                str(w.id),
                str(w.issue_id),
                w.time_spent_s,
                datetime.fromtimestamp(w.started_ms / 1000, UTC),
            )
            for w in world.worklogs.values()
            if project is None or world.issues[w.issue_id].key.startswith(f"{project}-")
        }


def _local(store: Store, source_id: int) -> set[tuple[str, str, int, datetime]]:
    with store.sessions() as session:
        return {
            (w.external_id, w.item_external_id, w.spent_seconds, w.started_at)
            for w in list_worklogs(session, source_id=source_id)
        }


def _client_seeing_everything(store: Store, source_id: int) -> int:
    with transaction(store.sessions) as session:
        client = add_client(session, name="acme", now=datetime.now(UTC))
        for project_id in session.scalars(select(ProjectRow.id).where(ProjectRow.source_id == source_id)):
            add_scope(session, client_id=client.id, project_id=project_id, rule=ScopeRule.ALL, value=None)
        return client.id


def _burn(store: Store, client_id: int) -> float:
    with store.sessions() as session:
        grants = read_grants(session, client_id=client_id)
        kpis = compute_kpis(session, grants, project_id=None, today=datetime.now(UTC).date(), weeks=4)
    return kpis.cost.burn_rate_hours_per_week


def _first_key(jira_sandbox: JiraSandbox) -> str:
    return next(iter(jira_sandbox.snapshot().values()))[0]


def _log_work(jira_sandbox: JiraSandbox, key: str, seconds: int) -> str:
    started = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = jira_sandbox.control(
        "POST", f"/jira/issues/{key}/worklogs", {"seconds": seconds, "started": started}
    )
    return str(response.json()["id"])


def _settle(jira_sandbox: JiraSandbox) -> None:
    """Past the minute Jira's worklog feeds leave out."""
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 120})


def test_full_sync_stores_every_worklog_of_the_site(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    summary = sync_source_now(store, source_id=jira_source_id, full=True)

    remote = _remote(jira_sandbox)
    assert remote
    assert _local(store, jira_source_id) == remote
    assert summary.worklogs_written == len(remote)


def test_incremental_sync_adds_a_logged_worklog_and_removes_a_deleted_one_and_burn_follows(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    client_id = _client_seeing_everything(store, jira_source_id)
    burn_before = _burn(store, client_id)

    worklog_id = _log_work(jira_sandbox, _first_key(jira_sandbox), 4 * HOUR)
    _settle(jira_sandbox)
    logged = sync_source_now(store, source_id=jira_source_id, full=False)
    burn_logged = _burn(store, client_id)
    jira_sandbox.control("DELETE", f"/jira/worklogs/{worklog_id}")
    _settle(jira_sandbox)
    deleted = sync_source_now(store, source_id=jira_source_id, full=False)

    assert (logged.worklogs_written, deleted.worklogs_deleted) == (1, 1)
    assert burn_logged == round(burn_before + 1.0, 2)
    assert _burn(store, client_id) == burn_before
    assert worklog_id not in {w[0] for w in _local(store, jira_source_id)}
    assert _local(store, jira_source_id) == _remote(jira_sandbox)


def test_incremental_sync_applies_a_changed_worklog(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    worklog_id = _log_work(jira_sandbox, _first_key(jira_sandbox), HOUR)
    _settle(jira_sandbox)
    sync_source_now(store, source_id=jira_source_id, full=True)

    jira_sandbox.control("PATCH", f"/jira/worklogs/{worklog_id}", {"seconds": 3 * HOUR})
    _settle(jira_sandbox)
    sync_source_now(store, source_id=jira_source_id, full=False)

    (seconds,) = [w[2] for w in _local(store, jira_source_id) if w[0] == worklog_id]
    assert seconds == 3 * HOUR


def test_a_worklog_logged_within_the_last_minute_is_taken_by_a_later_sync(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    worklog_id = _log_work(jira_sandbox, _first_key(jira_sandbox), HOUR)

    too_soon = sync_source_now(store, source_id=jira_source_id, full=False)
    _settle(jira_sandbox)
    settled = sync_source_now(store, source_id=jira_source_id, full=False)

    assert too_soon.worklogs_written == 0
    assert settled.worklogs_written == 1
    assert worklog_id in {w[0] for w in _local(store, jira_source_id)}


def test_full_sync_removes_worklogs_the_site_no_longer_lists_without_the_deleted_feed(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    gone = next(iter(_remote(jira_sandbox)))[0]
    jira_sandbox.control("DELETE", f"/jira/worklogs/{gone}")
    _settle(jira_sandbox)

    summary = sync_source_now(store, source_id=jira_source_id, full=True)

    assert summary.worklogs_deleted == 1
    assert WORKLOGS_DELETED not in summary.api_calls["by_endpoint"]
    assert _local(store, jira_source_id) == _remote(jira_sandbox)


def test_census_refuses_to_remove_most_worklogs_on_a_listing_that_lacks_them(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    with transaction(store.sessions) as session:
        issue_id = session.scalars(select(WorkItemRow.external_id).limit(1)).one()
        unknown = [
            replace(make_worklog(jira_source_id, 900000 + n), item_external_id=issue_id)
            for n in range(len(_remote(jira_sandbox)) + 60)
        ]
        save_worklogs(session, source_id=jira_source_id, worklogs=unknown)

    summary = sync_source_now(store, source_id=jira_source_id, full=False, census=True)

    assert any("worklog census refused" in error for error in summary.errors)
    assert len(_local(store, jira_source_id)) == len(_remote(jira_sandbox)) + len(unknown)


def test_worklogs_of_projects_not_synced_are_left_out(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    synced, other = (project.key for project in jira_sandbox.sandbox.jira.projects.values())
    elsewhere = _log_work(jira_sandbox, f"{other}-1", HOUR)
    _log_work(jira_sandbox, f"{synced}-1", HOUR)
    _settle(jira_sandbox)
    with transaction(store.sessions) as session:
        update_source_settings(session, source_id=jira_source_id, settings={"project_keys": [synced]})

    sync_source_now(store, source_id=jira_source_id, full=True)

    assert _local(store, jira_source_id) == _remote(jira_sandbox, project=synced)
    assert elsewhere not in {w[0] for w in _local(store, jira_source_id)}
