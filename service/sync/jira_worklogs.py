"""Jira worklogs: the time logged on a source's items, synced through the site's worklog feeds.

Jira lists the ids of worklogs updated, or deleted, since an instant (epoch milliseconds, 1000 a
page, the last minute left out, `until` the next `since`), and hands the worklogs themselves out by
id (`POST /worklog/list`, 1000 a call; `connectors.jira.worklogs`). The feeds cover the whole site:
worklogs of issues the store does not hold are left out when written.

- An incremental pass reads both feeds since their cursors (`worklogs` and `worklogs_deleted`,
  `{"since_ms": …}`), each page applied in one transaction with the cursor that covers it.
- A full pass (a full sync, a census, or a source without a worklog cursor) reads every worklog
  (`since` 0), then removes the stored worklogs the complete listing lacked, refusing when that
  would remove more than a census may; the deleted feed then resumes from the pass's start less
  `overlap`, as deletes before it show as absences.

The pass runs after the run's issues are stored, so their worklogs find their items. A worklog of
an issue the store does not hold yet (created after the run's search, in a project added later)
is taken by the next full pass: a full sync or the daily census.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from connectors.jira import JiraClient
from connectors.jira.models import JiraChangedWorklogPage
from service.domain.work import Worklog
from service.store.db import Session, transaction
from service.store.runtime import Store
from service.store.sync_state import find_cursor, save_cursor
from service.store.worklogs import delete_worklogs, list_worklog_external_ids, save_worklogs
from service.sync.jira_mapping import map_worklog
from service.sync.summary import SyncSummary

UPDATED_CURSOR_SCOPE = "worklogs"
DELETED_CURSOR_SCOPE = "worklogs_deleted"
# A census never removes fewer than this many worklogs on a share alone.
MIN_REMOVAL_REFUSED = 50


class JiraWorklogSync:
    def __init__(
        self,
        store: Store,
        *,
        source_id: int,
        client: JiraClient,
        summary: SyncSummary,
        now: Callable[[], datetime],
        overlap: timedelta,
        max_removal_share: float,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._source_id = source_id
        self._client = client
        self._summary = summary
        self._now = now
        self._overlap = overlap
        self._max_removal_share = max_removal_share
        self._progress = progress

    def run(self, *, full: bool) -> None:
        updated_since = None if full else self._cursor(UPDATED_CURSOR_SCOPE)
        if updated_since is None:
            self._take_all()
            return
        self._take_updated(updated_since)
        self._take_deleted(self._cursor(DELETED_CURSOR_SCOPE) or 0)

    # -- passes ------------------------------------------------------------------------------------

    def _take_all(self) -> None:
        started_ms = int((self._now() - self._overlap).timestamp() * 1000)
        listed = self._take_updated(0)
        if self._remove_absent(listed):
            with transaction(self._store.sessions) as session:
                self._save_cursor(session, DELETED_CURSOR_SCOPE, started_ms)

    def _take_updated(self, since_ms: int) -> set[str]:
        """Apply every page of the updated feed since `since_ms`; returns the ids it listed."""
        listed: set[str] = set()
        for page in self._client.iter_updated_worklog_pages(since_ms):
            ids = [change.worklog_id for change in page.values]
            listed.update(str(worklog_id) for worklog_id in ids)
            worklogs = [
                mapped
                for worklog in (self._client.list_worklogs(ids) if ids else [])
                if (mapped := map_worklog(worklog, source_id=self._source_id)) is not None
            ]
            self._apply_page(page, UPDATED_CURSOR_SCOPE, since_ms, written=worklogs)
        return listed

    def _take_deleted(self, since_ms: int) -> None:
        for page in self._client.iter_deleted_worklog_pages(since_ms):
            deleted = [str(change.worklog_id) for change in page.values]
            self._apply_page(page, DELETED_CURSOR_SCOPE, since_ms, deleted=deleted)

    def _apply_page(
        self,
        page: JiraChangedWorklogPage,
        scope: str,
        since_ms: int,
        *,
        written: list[Worklog] | None = None,
        deleted: list[str] | None = None,
    ) -> None:
        with transaction(self._store.sessions) as session:
            saved = save_worklogs(session, source_id=self._source_id, worklogs=written or [])
            removed = delete_worklogs(session, source_id=self._source_id, external_ids=deleted or [])
            # A page without `until` (nothing listed) leaves the feed where it was asked to start.
            self._save_cursor(session, scope, page.until if page.until is not None else since_ms)
        self._summary.worklogs_written += saved
        self._summary.worklogs_deleted += removed
        if self._progress is not None:
            # No items advance, but the lease is renewed between pages of a long pass.
            self._progress(0)

    def _remove_absent(self, listed: set[str]) -> bool:
        """Remove stored worklogs a complete listing lacked; False when refused as implausible."""
        with self._store.sessions() as session:
            stored = list_worklog_external_ids(session, source_id=self._source_id)
        missing = stored - listed
        if len(missing) > max(MIN_REMOVAL_REFUSED, int(len(stored) * self._max_removal_share)):
            self._summary.errors.append(
                f"worklog census refused: {len(missing)} of {len(stored)} worklogs missing looks like a "
                "partial listing"
            )
            return False
        with transaction(self._store.sessions) as session:
            self._summary.worklogs_deleted += delete_worklogs(
                session, source_id=self._source_id, external_ids=missing
            )
        return True

    # -- cursors -----------------------------------------------------------------------------------

    def _cursor(self, scope: str) -> int | None:
        with self._store.sessions() as session:
            position = find_cursor(session, source_id=self._source_id, scope=scope)
        return int(position["since_ms"]) if position else None

    def _save_cursor(self, session: Session, scope: str, since_ms: int) -> None:
        save_cursor(
            session, source_id=self._source_id, scope=scope, position={"since_ms": since_ms}, now=self._now()
        )
