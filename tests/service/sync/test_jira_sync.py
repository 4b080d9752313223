"""Jira sync end to end against the sandbox over loopback."""

from __future__ import annotations

import gc
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from connectors.http import RetryPolicy
from service.domain.enums import SourceKind
from service.errors import ProviderUnavailableError, SyncInProgressError
from service.store.db import transaction
from service.store.leases import acquire_lease, release_lease
from service.store.orm import ChangeRow, MilestoneRow, SyncLeaseRow, SyncRunRow, WorkItemRow
from service.store.runtime import Store
from service.sync import jira as jira_sync
from service.sync import runs
from service.sync.gc_budget import BULK_YOUNG_THRESHOLD
from service.sync.runs import LEASE_TTL, sync_source_now
from tests.support.jira_sandbox import JiraSandbox, local_snapshot
from tests.support.sources import add_test_source

SEARCH = "POST /rest/api/3/search/jql"
WORKLOGS_UPDATED = "GET /rest/api/3/worklog/updated"
WORKLOGS_DELETED = "GET /rest/api/3/worklog/deleted"
BOARD_SPRINTS = "GET /rest/agile/1.0/board/{board_id}/sprint"
PROJECT_VERSIONS = "GET /rest/api/3/project/{project}/versions"
SEARCH_LAG_S = 0.5
FAST_RETRY = RetryPolicy.without_waiting(max_attempts=8)


def count(store: Store, model: type, *where: object) -> int:
    with store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_full_sync_matches_the_sandbox_world(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    summary = sync_source_now(store, source_id=jira_source_id, full=True)

    assert summary.status == "succeeded"
    assert local_snapshot(store, jira_source_id) == jira_sandbox.snapshot()
    assert count(store, ChangeRow) == jira_sandbox.history_item_count()
    versions = len(jira_sandbox.sandbox.jira.versions)
    assert count(store, MilestoneRow, MilestoneRow.kind == "version") == versions
    assert summary.items_seen == summary.items_changed == len(jira_sandbox.snapshot())


def test_full_sync_uses_bulk_changelog_never_per_issue(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    summary = sync_source_now(store, source_id=jira_source_id, full=True)

    endpoints = summary.api_calls["by_endpoint"]
    assert "POST /rest/api/3/changelog/bulkfetch" in endpoints
    assert not any("/changelog" in e and "bulkfetch" not in e for e in endpoints)


def test_incremental_with_nothing_changed_is_one_search_one_call_per_worklog_feed_board_and_project(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)

    summary = sync_source_now(store, source_id=jira_source_id, full=False)

    # A sprint starts or closes without changing an issue: each board's open sprints are asked for.
    # A version's date moves without changing an issue: each project's versions are read.
    boards = len(jira_sandbox.sandbox.jira.boards)
    projects = len(jira_sandbox.sandbox.jira.projects)
    assert summary.api_calls["total"] == 3 + boards + projects
    assert summary.api_calls["by_endpoint"][BOARD_SPRINTS] == {"200": boards}
    assert summary.api_calls["by_endpoint"][PROJECT_VERSIONS] == {"200": projects}
    endpoints = {SEARCH, WORKLOGS_UPDATED, WORKLOGS_DELETED, BOARD_SPRINTS, PROJECT_VERSIONS}
    assert set(summary.api_calls["by_endpoint"]) == endpoints
    assert (summary.items_changed, summary.worklogs_written, summary.worklogs_deleted) == (0, 0, 0)


def test_incremental_after_mutations_applies_them_with_their_history(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    key = next(iter(jira_sandbox.snapshot().values()))[0]
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 120})
    jira_sandbox.control("POST", f"/jira/issues/{key}/duedate", {"duedate": "2027-03-01"})
    jira_sandbox.control("POST", f"/jira/issues/{key}/status", {"status": "Done"})

    summary = sync_source_now(store, source_id=jira_source_id, full=False)

    assert summary.items_changed == 1
    assert local_snapshot(store, jira_source_id) == jira_sandbox.snapshot()
    with store.sessions() as session:
        fields = set(
            session.scalars(
                select(ChangeRow.field)
                .join(WorkItemRow, WorkItemRow.id == ChangeRow.item_id)
                .where(WorkItemRow.key == key, ChangeRow.to_value == "2027-03-01")
            )
        )
    assert fields == {"promised_date"}


def test_full_sync_after_a_delete_marks_the_item_deleted(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    before = jira_sandbox.snapshot()
    issue_id, (key, *_) = next(iter(before.items()))
    jira_sandbox.control("DELETE", f"/jira/issues/{key}")

    summary = sync_source_now(store, source_id=jira_source_id, full=True)

    # Deleting a parent deletes its subtasks too, as Jira does.
    assert summary.items_deleted == len(before) - len(jira_sandbox.snapshot()) >= 1
    assert (
        count(store, WorkItemRow, WorkItemRow.external_id == issue_id, WorkItemRow.visibility == "deleted")
        == 1
    )
    assert local_snapshot(store, jira_source_id) == jira_sandbox.snapshot()


def test_census_after_a_delete_marks_it_with_id_only_listing(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    before = jira_sandbox.snapshot()
    key = next(iter(before.values()))[0]
    jira_sandbox.control("DELETE", f"/jira/issues/{key}")

    summary = sync_source_now(store, source_id=jira_source_id, full=False, census=True)

    assert summary.kind == "census"
    assert summary.items_deleted == len(before) - len(jira_sandbox.snapshot()) >= 1
    assert local_snapshot(store, jira_source_id) == jira_sandbox.snapshot()
    assert "POST /rest/api/3/changelog/bulkfetch" not in summary.api_calls["by_endpoint"]


def test_data_center_source_syncs_with_start_at_paging(store: Store, jira_sandbox: JiraSandbox) -> None:
    source_id = add_test_source(
        store,
        kind=SourceKind.JIRA_DATA_CENTER,
        name="dc",
        webhook_secret=None,
        base_url=jira_sandbox.base_url,
        credentials={"token": jira_sandbox.sandbox.jira_pat},
    )

    summary = sync_source_now(store, source_id=source_id, full=True)

    assert local_snapshot(store, source_id) == jira_sandbox.snapshot()
    assert "POST /rest/api/2/search" in summary.api_calls["by_endpoint"]
    assert count(store, ChangeRow) == jira_sandbox.history_item_count()


@pytest.mark.parametrize(
    "fault",
    [
        {"route": SEARCH, "kind": "error", "status": 503, "probability": 0.3},
        {"route": SEARCH, "kind": "rate_limit", "retry_after_s": 0, "times": 3},
        {"route": "POST /rest/api/3/changelog/bulkfetch", "kind": "error", "status": 500, "times": 2},
        {"route": SEARCH, "kind": "timeout", "times": 1},
    ],
    ids=["search-503", "search-429", "bulk-500", "search-timeout"],
)
def test_full_sync_under_faults_ends_in_the_same_state(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int, fault: dict[str, object]
) -> None:
    jira_sandbox.control("POST", "/faults", fault)

    sync_source_now(store, source_id=jira_source_id, full=True, retry=FAST_RETRY, timeout=httpx.Timeout(1.0))

    assert local_snapshot(store, jira_source_id) == jira_sandbox.snapshot()
    assert count(store, ChangeRow) == jira_sandbox.history_item_count()


def test_sync_that_keeps_failing_is_recorded_and_resumes_from_its_cursor(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    jira_sandbox.control("POST", "/faults", {"route": SEARCH, "kind": "error", "status": 502})

    with pytest.raises(ProviderUnavailableError):
        sync_source_now(
            store, source_id=jira_source_id, full=True, retry=RetryPolicy.without_waiting(max_attempts=2)
        )
    jira_sandbox.control("DELETE", "/faults")
    sync_source_now(store, source_id=jira_source_id, full=True)

    with store.sessions() as session:
        statuses = list(session.scalars(select(SyncRunRow.status).order_by(SyncRunRow.id)))
    assert statuses == ["failed", "succeeded"]
    assert local_snapshot(store, jira_source_id) == jira_sandbox.snapshot()


def test_incremental_under_search_lag_catches_up_on_the_next_run(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    jira_sandbox.control("POST", "/jira/settings", {"searchLagSeconds": SEARCH_LAG_S})
    key = next(iter(jira_sandbox.snapshot().values()))[0]
    jira_sandbox.control("POST", "/clock/advance", {"seconds": 60})
    jira_sandbox.control("POST", f"/jira/issues/{key}/duedate", {"duedate": "2027-04-01"})

    lagging = sync_source_now(store, source_id=jira_source_id, full=False)
    time.sleep(SEARCH_LAG_S + 0.2)  # the sandbox's index catches up on real time, as Jira's does
    caught_up = sync_source_now(store, source_id=jira_source_id, full=False)

    assert lagging.items_changed == 0
    assert caught_up.items_changed == 1
    assert local_snapshot(store, jira_source_id) == jira_sandbox.snapshot()


def test_sync_while_another_worker_holds_the_lease_is_refused(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    with transaction(store.sessions) as session:
        acquire_lease(
            session, source_id=jira_source_id, owner="other-worker", now=datetime.now(UTC), ttl=LEASE_TTL
        )

    with pytest.raises(SyncInProgressError):
        sync_source_now(store, source_id=jira_source_id, full=True)
    with transaction(store.sessions) as session:
        release_lease(session, source_id=jira_source_id, owner="other-worker")
    summary = sync_source_now(store, source_id=jira_source_id, full=True)

    assert summary.status == "succeeded"


def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages and batches of 5 issues, so a run over the tiny world applies several batches."""
    monkeypatch.setattr(jira_sync, "SEARCH_PAGE_SIZE", 5)
    monkeypatch.setattr(jira_sync, "BATCH_ISSUES", 5)


def test_a_run_renews_its_lease_once_lease_renew_after_has_passed(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_batches(monkeypatch)
    renewals: list[str] = []
    renew = runs.renew_lease

    def counting(session: object, **kwargs: object) -> bool:
        renewals.append(str(kwargs["owner"]))
        return renew(session, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runs, "renew_lease", counting)
    batches: list[int] = []
    sync_source_now(store, source_id=jira_source_id, full=True, progress=batches.append)
    assert len(batches) > 2
    assert renewals == []  # a run shorter than LEASE_RENEW_AFTER writes no renewal

    monkeypatch.setattr(runs, "LEASE_RENEW_AFTER", timedelta(0))
    batches.clear()
    sync_source_now(store, source_id=jira_source_id, full=True, progress=batches.append)
    assert len(renewals) == len(batches)
    assert len(set(renewals)) == 1  # all by the run's own owner


def test_a_run_whose_lease_was_taken_over_stops_at_its_next_renewal(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_batches(monkeypatch)
    monkeypatch.setattr(runs, "LEASE_RENEW_AFTER", timedelta(0))

    def take_over(_count: int) -> None:
        # As if the run had stalled past LEASE_TTL and another worker had taken the source over.
        with transaction(store.sessions) as session:
            session.execute(
                update(SyncLeaseRow)
                .where(SyncLeaseRow.source_id == jira_source_id)
                .values(owner="other-worker")
            )

    with pytest.raises(SyncInProgressError, match="taken over"):
        sync_source_now(store, source_id=jira_source_id, full=True, progress=take_over)

    # What the run committed before it stopped stays: its first batch, not the whole world.
    assert 5 <= count(store, WorkItemRow) < len(jira_sandbox.snapshot())
    with store.sessions() as session:
        assert session.scalars(select(SyncRunRow.status)).all() == ["failed"]


def test_a_full_run_streams_and_takes_its_census_with_fewer_collections(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    thresholds: dict[str, int] = {}
    for step in ("_stream", "_reconcile_missing"):
        original = getattr(jira_sync.JiraSync, step)

        def recording(
            self: object, *args: object, _step: str = step, _original: Any = original, **kwargs: object
        ) -> object:
            thresholds[_step] = gc.get_threshold()[0]
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(jira_sync.JiraSync, step, recording)
    saved = gc.get_threshold()
    gc.set_threshold(700, *saved[1:])
    try:
        sync_source_now(store, source_id=jira_source_id, full=True)
    finally:
        gc.set_threshold(*saved)

    # Both allocate per item; a young collection every 700 containers would cost more than they do.
    assert thresholds == {"_stream": BULK_YOUNG_THRESHOLD, "_reconcile_missing": BULK_YOUNG_THRESHOLD}


def test_sync_of_a_crashed_workers_source_proceeds_once_the_lease_expired(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    long_ago = datetime.now(UTC) - LEASE_TTL - timedelta(seconds=1)
    with transaction(store.sessions) as session:
        acquire_lease(session, source_id=jira_source_id, owner="crashed", now=long_ago, ttl=LEASE_TTL)

    summary = sync_source_now(store, source_id=jira_source_id, full=True)

    assert summary.status == "succeeded"
