"""Applying Jira issues in batches: each batch with its complete changelogs and the cursor that
covers it in one transaction, so a crash resumes where the last commit ended.

A batch is staged first (which of its items are newer than the store, and a fetch of their
changelogs started) and written later, so the changelogs of one batch arrive while the batch before
it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import datetime

from connectors.jira import JiraClient
from connectors.jira.issues import RawBulkChangelogPage
from connectors.jira.models import JiraChangeHistory, JiraIssue
from service.domain.work import Change, Milestone, WorkItem
from service.store.db import CommitBehind, Session, transaction
from service.store.items import list_items_to_write, upsert_milestones, upsert_work_items
from service.store.runtime import Store
from service.store.sync_state import find_cursor, save_cursor
from service.sync.jira_fields import JiraFieldMap
from service.sync.jira_json import JiraJsonMapper, MappedIssue
from service.sync.jira_mapping import issue_sprints, map_histories, map_issue, map_sprint
from service.sync.summary import SyncSummary

CURSOR_SCOPE = "issues"
BATCH_ISSUES = 1000  # the bulk changelog endpoint takes up to 1,000 issues
CHANGELOG_PAGE_SIZE = 10000  # bulk changelog maxResults ceiling

Progress = Callable[[int], None]


class JiraBatches:
    """Maps and applies issues of one source, with the field map and browse base of one run."""

    def __init__(
        self,
        store: Store,
        *,
        source_id: int,
        client: JiraClient,
        summary: SyncSummary,
        field_map: JiraFieldMap,
        browse_base: str,
        now: Callable[[], datetime],
        progress: Progress | None,
        board_projects: Mapping[int, str] | None = None,
        board_sprints: Sequence[Milestone] = (),
    ) -> None:
        self._store = store
        self._source_id = source_id
        self._client = client
        self._summary = summary
        self._field_map = field_map
        self._browse_base = browse_base
        self._now = now
        self._progress = progress
        self.mapper = JiraJsonMapper(source_id=source_id, field_map=field_map, browse_base=browse_base)
        # A sprint belongs to its board's project (an issue of another project may name it); the
        # sprints this run read from the boards are written already.
        self._board_projects = board_projects or {}
        self._written_sprints: dict[str, Milestone] = {m.external_id: m for m in board_sprints}

    def map_record(self, record: bytes | JiraIssue) -> MappedIssue:
        """A search result: the issue's JSON text (Cloud) or a wire model (Data Center, webhooks)."""
        return self.map_model(record) if isinstance(record, JiraIssue) else self.mapper.issue(record)

    def map_model(self, issue: JiraIssue) -> MappedIssue:
        item = map_issue(
            issue, source_id=self._source_id, field_map=self._field_map, browse_base=self._browse_base
        )
        return MappedIssue(item=item, sprints=tuple(issue_sprints(issue, self._field_map)), issue=issue)

    def stage(
        self,
        batch: Sequence[MappedIssue],
        *,
        fetcher: Executor | None,
        advance_cursor: bool,
        known_changes: Sequence[Change] | None = None,
        authoritative: bool = True,
    ) -> Staged:
        """Decide what the batch writes and start fetching the complete changelogs of those items.

        Read before the previous batch is committed, the selection can only name an item that batch
        writes too (listed twice with the same `updated`): its changelog is then read twice, and
        the write itself still decides (see `upsert_work_items`).
        """
        staged = Staged(batch=batch, advance_cursor=advance_cursor, authoritative=authoritative)
        if known_changes is not None:
            staged.changes = list(known_changes)
            return staged
        with self._store.sessions() as session:
            to_write = list_items_to_write(
                session, source_id=self._source_id, items=[m.item for m in batch], authoritative=authoritative
            )
        wanted = sorted({item.external_id for item in to_write}, key=int)
        if not wanted:
            staged.changes = []
        elif not self._client.site.is_cloud:
            staged.changes = self._embedded_changelogs(batch, set(wanted))
        elif fetcher is None:
            staged.changes = self._map_bulk_pages(self._fetch_bulk_changelogs(wanted))
        else:
            staged.pending = fetcher.submit(self._fetch_bulk_changelogs, wanted)
        return staged

    def apply(
        self,
        batch: Sequence[MappedIssue],
        *,
        advance_cursor: bool,
        known_changes: Sequence[Change] | None = None,
        authoritative: bool = True,
    ) -> None:
        staged = self.stage(
            batch,
            fetcher=None,
            advance_cursor=advance_cursor,
            known_changes=known_changes,
            authoritative=authoritative,
        )
        self.write(staged)

    def write(self, staged: Staged, *, committer: CommitBehind | None = None) -> None:
        """Write a staged batch, its changes and (for a listing) the cursor in one transaction.

        With a `committer`, the transaction commits in the background and the batch is counted in
        the summary once it has.
        """
        changes = staged.changes
        if changes is None:
            if staged.pending is None:
                raise RuntimeError("a staged batch has neither changes nor a changelog fetch")
            changes = self._map_bulk_pages(staged.pending.result())
        items = [mapped.item for mapped in staged.batch]
        # The same sprints recur in every batch: write each again only when it changed.
        sprints = [
            sprint
            for sprint in self._sprint_milestones(staged.batch)
            if self._written_sprints.get(sprint.external_id) != sprint
        ]
        unit = transaction(self._store.sessions) if committer is None else committer.unit()
        with unit as session:
            upsert_milestones(session, source_id=self._source_id, milestones=sprints, observed_at=self._now())
            result = upsert_work_items(
                session,
                source_id=self._source_id,
                items=items,
                changes=changes,
                authoritative=staged.authoritative,
            )
            if staged.advance_cursor and items:
                newest = max(items, key=lambda item: (item.updated_at, int(item.external_id)))
                save_cursor(
                    session,
                    source_id=self._source_id,
                    scope=CURSOR_SCOPE,
                    position=_cursor_position(newest, self._existing_cursor_ms(session)),
                    now=self._now(),
                )
        # Recorded at once: the next batch chooses its sprints before this one has committed, and a
        # failed commit ends the run.
        self._written_sprints.update((sprint.external_id, sprint) for sprint in sprints)

        def committed() -> None:
            self._summary.items_seen += len(items)
            self._summary.items_changed += len(result.changed_item_ids)
            self._summary.changes_added += result.changes_added
            self._summary.changed_item_ids.extend(result.changed_item_ids)
            if self._progress is not None:
                self._progress(len(items))

        if committer is None:
            committed()
        else:
            committer.after_commit(committed)

    def _existing_cursor_ms(self, session: Session) -> int | None:
        cursor = find_cursor(session, source_id=self._source_id, scope=CURSOR_SCOPE)
        return int(cursor["updated_ms"]) if cursor else None

    def _fetch_bulk_changelogs(self, ids: Sequence[str]) -> list[RawBulkChangelogPage]:
        """Complete histories through the bulk endpoint, never the slice a search embeds."""
        pages: list[RawBulkChangelogPage] = []
        for start in range(0, len(ids), BATCH_ISSUES):
            pages += self._client.iter_bulk_changelogs_raw(
                ids[start : start + BATCH_ISSUES], page_size=CHANGELOG_PAGE_SIZE
            )
        return pages

    def _map_bulk_pages(self, pages: Sequence[RawBulkChangelogPage]) -> list[Change]:
        mapper = self.mapper
        changes: list[Change] = []
        for page in pages:
            for issue_id, histories in page.issue_change_logs:
                changes += mapper.histories(issue_id, histories)
        return changes

    def _embedded_changelogs(self, batch: Sequence[MappedIssue], wanted: set[str]) -> list[Change]:
        """Data Center: the changelog a search embeds when complete, else the issue's own."""
        changes: list[Change] = []
        for mapped in batch:
            issue = mapped.issue
            if issue is None or issue.id not in wanted:
                continue
            if issue.changelog is not None and issue.changelog.is_complete:
                changes += self.map_histories(issue.id, issue.changelog.histories)
            else:
                changes += self.map_histories(issue.id, self._client.iter_changelog(issue.key))
        return changes

    def map_histories(self, issue_id: str, histories: Iterable[JiraChangeHistory]) -> list[Change]:
        return map_histories(issue_id, histories, source_id=self._source_id, field_map=self._field_map)

    def _sprint_milestones(self, batch: Sequence[MappedIssue]) -> list[Milestone]:
        sprints: dict[int, Milestone] = {}
        for mapped in batch:
            for sprint in mapped.sprints:
                if sprint.id not in sprints:
                    board = sprint.board_id or sprint.origin_board_id
                    project = self._board_projects.get(board) if board is not None else None
                    sprints[sprint.id] = map_sprint(
                        sprint,
                        source_id=self._source_id,
                        project_external_id=project or mapped.item.project_external_id,
                    )
        return list(sprints.values())


@dataclass(slots=True)
class Staged:
    """A batch whose items to write are chosen, waiting for its changes."""

    batch: Sequence[MappedIssue]
    advance_cursor: bool
    authoritative: bool
    changes: list[Change] | None = None
    pending: Future[list[RawBulkChangelogPage]] | None = None


def _cursor_position(newest: WorkItem, existing_ms: int | None) -> dict[str, int | str]:
    updated_ms = int(newest.updated_at.timestamp() * 1000)
    # Never move the cursor back: a batch applied out of band may be older than what was synced.
    if existing_ms is not None and existing_ms > updated_ms:
        return {"updated_ms": existing_ms, "id": newest.external_id}
    return {"updated_ms": updated_ms, "id": newest.external_id}
