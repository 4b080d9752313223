"""Jira sync: full and incremental on `updated`, complete changelogs, worklogs, comments, and the
delete census.

Frugal with the API: one search stream per source over every synced project (pages of the real
maximum, 100 issues), changelogs through the bulk endpoint for changed issues only (1,000 issues a
call), and on an incremental run nothing else but the open sprints of each board
(`service.sync.jira_sprints`), the two worklog feeds since their cursors
(`service.sync.jira_worklogs`) and a second search for the comments of the issues updated since
its cursor (`service.sync.jira_comments`). Each batch of issues is applied in one transaction
together with the cursor that covers it, so a crash resumes where the last commit ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connectors.http import AuthError, NotFoundError
from connectors.jira import JiraClient
from connectors.jira.models import JiraChangeHistory, JiraIssue
from service.domain.enums import Visibility
from service.domain.work import Milestone, Project, Source
from service.store.db import CommitBehind, transaction
from service.store.items import list_item_external_ids, mark_items_visibility, upsert_milestones
from service.store.projects import list_source_projects, upsert_projects
from service.store.runtime import Store
from service.store.sources import update_source_settings
from service.store.sync_state import find_cursor
from service.sync.gc_budget import fewer_collections
from service.sync.jira_batches import BATCH_ISSUES, CURSOR_SCOPE, JiraBatches, Progress, Staged
from service.sync.jira_comments import JiraCommentSync
from service.sync.jira_fields import JiraFieldMap, discover_field_map
from service.sync.jira_json import MappedIssue
from service.sync.jira_mapping import map_project, map_version
from service.sync.jira_sprints import JiraSprintSync
from service.sync.jira_worklogs import JiraWorklogSync
from service.sync.prefetch import Prefetcher
from service.sync.summary import SyncSummary

# Re-read this much before the cursor: covers search indexing lag (search is eventually consistent)
# and items sharing the boundary timestamp; re-reads are no-ops in the idempotent upsert.
DEFAULT_OVERLAP = timedelta(minutes=5)
SEARCH_PAGE_SIZE = 100  # the real cap when fields are requested (reference §2)
CENSUS_PAGE_SIZE = 5000  # id-only searches may ask for up to 5,000
MAX_MISSING_CHECKS = 200
# Search pages read ahead while a batch is written: about one batch of the bulk changelog's size.
PREFETCH_PAGES = 10
# A census that would remove more than this share of a source's items is refused: a listing that
# looked complete but was not (a permission hiccup) must never delete the world.
MAX_CENSUS_REMOVAL_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class _Scope:
    projects: tuple[Project, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.projects)

    def jql(self, *, since_ms: int | None = None) -> str:
        keys = ", ".join(f'"{key}"' for key in self.keys)
        bound = f" AND updated >= {since_ms}" if since_ms is not None else ""
        return f"project in ({keys}){bound} ORDER BY updated ASC, id ASC"


class JiraSync:
    def __init__(
        self,
        store: Store,
        *,
        source: Source,
        client: JiraClient,
        summary: SyncSummary,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        overlap: timedelta = DEFAULT_OVERLAP,
        progress: Progress | None = None,
    ) -> None:
        if source.id is None:
            raise ValueError("a stored source is needed")
        self._store = store
        self._source = source
        self._source_id: int = source.id
        self._client = client
        self._summary = summary
        self._now = now
        self._overlap = overlap
        self._progress = progress
        self._field_map = JiraFieldMap.from_settings(source.settings.get("field_map", {}))
        self._browse_base = str(source.settings.get("browse_base") or source.base_url)
        self._sprints = JiraSprintSync(store, source_id=self._source_id, client=client, now=now)

    # -- entry points ---------------------------------------------------------------------------

    def run(self, *, full: bool, reconcile_issue_ids: Sequence[int] = ()) -> None:
        """A full sync (everything, then the census) or an incremental one (since the cursor).

        A source with no cursor yet has never been synced: its first run is always full.
        """
        since_ms = None if full else self._incremental_since_ms()
        full = full or since_ms is None
        if full or "field_map" not in self._source.settings:
            self._discover_site()
        scope = self._refresh_projects() if full else self._refresh_versions(self._stored_scope())
        if not scope.projects:
            return
        # Before the issues, so a batch names the sprints of the boards as the boards do.
        self._sprints.run(scope.projects, full=full)
        with fewer_collections():
            seen = self._stream(scope.jql(since_ms=since_ms), reconcile_issue_ids=reconcile_issue_ids)
            if full:
                self._reconcile_missing(seen, scope)
        # After the issues, so the worklogs and comments of issues this run stored find their items.
        self._worklogs().run(full=full)
        # A comment moves its issue's `updated`: when the issues' cursor has not passed where the
        # comments were read to, no comment changed, and an idle run reads none.
        comments = self.comments()
        if full or not comments.caught_up():
            comments.run(_jql_since(scope), full=full)

    def census(self) -> None:
        """List every id in scope (id-only pages) and reconcile what the store holds but Jira lacks;
        every worklog and every issue's comments are listed again too."""
        scope = self._stored_scope()
        if not scope.projects:
            return
        self._sprints.run(scope.projects, full=True)
        seen: set[str] = set()
        for page in self._client.iter_search_pages(
            scope.jql(), fields=("id",), page_size=CENSUS_PAGE_SIZE if self._client.site.is_cloud else 1000
        ):
            seen.update(issue.id for issue in page.issues)
        self._reconcile_missing(seen, scope)
        self._worklogs().run(full=True)
        self.comments().run(_jql_since(scope), full=True)

    def comments(self) -> JiraCommentSync:
        """The comment pass of this source (also what applies a comment webhook)."""
        return JiraCommentSync(
            self._store,
            source_id=self._source_id,
            client=self._client,
            summary=self._summary,
            now=self._now,
            overlap=self._overlap,
            progress=self._progress,
        )

    def apply_issues(
        self, issues: Sequence[JiraIssue], *, histories: dict[str, list[JiraChangeHistory]] | None = None
    ) -> None:
        """Apply issues from outside a search (a webhook, a re-fetch). `histories` carries changelog
        entries already in hand; without it the complete changelogs are fetched."""
        batches = self._batches()
        known = None
        if histories is not None:
            known = [
                change
                for issue_id, entries in histories.items()
                for change in batches.map_histories(issue_id, entries)
            ]
        # A pushed payload is not a listing: it must not resurrect an item deleted after it was sent.
        mapped = [batches.map_model(issue) for issue in issues]
        batches.apply(mapped, advance_cursor=False, known_changes=known, authoritative=False)

    @property
    def search_fields(self) -> tuple[str, ...]:
        return self._field_map.search_fields

    # -- site, projects, cursor ------------------------------------------------------------------

    def _discover_site(self) -> None:
        info = self._client.get_server_info()
        wanted = self._source.settings.get("promised_date_field")
        field_map = discover_field_map(self._client.list_fields(), promised_date=wanted)
        with transaction(self._store.sessions) as session:
            self._source = update_source_settings(
                session,
                source_id=self._source_id,
                settings={"field_map": field_map.to_settings(), "browse_base": info.base_url.rstrip("/")},
            )
        self._field_map = field_map
        self._browse_base = info.base_url.rstrip("/")

    def _refresh_projects(self) -> _Scope:
        wanted = {key.upper() for key in self._source.settings.get("project_keys", [])}
        projects = [
            map_project(p, source_id=self._source_id, browse_base=self._browse_base)
            for p in self._client.iter_projects()
            if not p.archived and (not wanted or p.key.upper() in wanted)
        ]
        milestones = self._read_versions(projects)
        with transaction(self._store.sessions) as session:
            upsert_projects(session, projects=projects)
            upsert_milestones(
                session, source_id=self._source_id, milestones=milestones, observed_at=self._now()
            )
            stored = list_source_projects(session, source_id=self._source_id)
        in_scope = {p.external_id for p in projects}
        return _Scope(projects=tuple(p for p in stored if p.external_id in in_scope))

    def _refresh_versions(self, scope: _Scope) -> _Scope:
        """An incremental run reads the versions of its projects again (one call a project): Jira
        keeps no history of a version's dates, so a release date moved is seen only by reading it."""
        milestones = self._read_versions(scope.projects)
        if milestones:
            with transaction(self._store.sessions) as session:
                upsert_milestones(
                    session, source_id=self._source_id, milestones=milestones, observed_at=self._now()
                )
        return scope

    def _read_versions(self, projects: Sequence[Project]) -> list[Milestone]:
        milestones: list[Milestone] = []
        for project in projects:
            milestones += [
                map_version(v, source_id=self._source_id, project_external_id=project.external_id)
                for v in self._client.list_versions(project.key)
            ]
        return milestones

    def _stored_scope(self) -> _Scope:
        wanted = {key.upper() for key in self._source.settings.get("project_keys", [])}
        with self._store.sessions() as session:
            stored = list_source_projects(session, source_id=self._source_id)
        return _Scope(projects=tuple(p for p in stored if not wanted or p.key.upper() in wanted))

    def _incremental_since_ms(self) -> int | None:
        with self._store.sessions() as session:
            cursor = find_cursor(session, source_id=self._source_id, scope=CURSOR_SCOPE)
        if not cursor:
            return None
        return int(cursor["updated_ms"]) - int(self._overlap.total_seconds() * 1000)

    def _worklogs(self) -> JiraWorklogSync:
        return JiraWorklogSync(
            self._store,
            source_id=self._source_id,
            client=self._client,
            summary=self._summary,
            now=self._now,
            overlap=self._overlap,
            max_removal_share=MAX_CENSUS_REMOVAL_SHARE,
            progress=self._progress,
        )

    # -- streaming and applying ------------------------------------------------------------------

    def _batches(self) -> JiraBatches:
        return JiraBatches(
            self._store,
            source_id=self._source_id,
            client=self._client,
            summary=self._summary,
            field_map=self._field_map,
            browse_base=self._browse_base,
            now=self._now,
            progress=self._progress,
            board_projects=self._sprints.known_board_projects(),
            board_sprints=self._sprints.milestones,
        )

    def _stream(self, jql: str, *, reconcile_issue_ids: Sequence[int]) -> set[str]:
        seen: set[str] = set()
        batches = self._batches()
        batch: list[MappedIssue] = []
        # The read-ahead thread only fetches and decodes; mapping and writing stay on this thread. A
        # second thread running Python while the driver writes would make each written row wait for
        # the interpreter lock (the driver takes it back after every row).
        pages = Prefetcher(
            self._search_pages(jql, reconcile_issue_ids), depth=PREFETCH_PAGES, name="jira-search"
        )
        # Each batch's changelogs are fetched while the batch before it is written, and each batch
        # is mapped while the one before it commits.
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="jira-changelog") as fetcher,
            CommitBehind(self._store.sessions) as committer,
        ):
            staged: Staged | None = None
            for page in pages:
                for record in page:
                    mapped = batches.map_record(record)
                    seen.add(mapped.item.external_id)
                    batch.append(mapped)
                if len(batch) >= BATCH_ISSUES:
                    staged = _write_previous(
                        batches, staged, batches.stage(batch, fetcher=fetcher, advance_cursor=True), committer
                    )
                    batch = []
            if batch:
                staged = _write_previous(
                    batches, staged, batches.stage(batch, fetcher=fetcher, advance_cursor=True), committer
                )
            if staged is not None:
                batches.write(staged, committer=committer)
        return seen

    def _search_pages(
        self, jql: str, reconcile_issue_ids: Sequence[int]
    ) -> Iterator[list[bytes] | list[JiraIssue]]:
        """Cloud pages as each issue's JSON text (mapped without wire models); Data Center pages, with
        their embedded changelogs, as wire models."""
        fields = self._field_map.search_fields
        if self._client.site.is_cloud:
            raw_pages = self._client.iter_search_pages_raw(
                jql, fields=fields, page_size=SEARCH_PAGE_SIZE, reconcile_issue_ids=reconcile_issue_ids[:50]
            )
            for raw_page in raw_pages:
                yield raw_page.issues
            return
        pages = self._client.iter_search_pages(
            jql, fields=fields, expand=("changelog",), page_size=SEARCH_PAGE_SIZE
        )
        for page in pages:
            yield page.issues

    # -- deletes ---------------------------------------------------------------------------------

    def _reconcile_missing(self, seen: set[str], scope: _Scope) -> None:
        """Items the store shows but a complete listing lacked: deleted (404) or no longer visible."""
        with self._store.sessions() as session:
            stored = list_item_external_ids(session, source_id=self._source_id)
        missing = sorted(stored - seen, key=int)
        if not missing:
            return
        if len(missing) > max(50, int(len(stored) * MAX_CENSUS_REMOVAL_SHARE)):
            self._summary.errors.append(
                f"census refused: {len(missing)} of {len(stored)} items missing looks like a partial listing"
            )
            return
        deleted: list[str] = []
        hidden: list[str] = []
        keys = set(scope.keys)
        for external_id in missing[:MAX_MISSING_CHECKS]:
            try:
                issue = self._client.get_issue(external_id, fields=("project",))
            except NotFoundError:
                deleted.append(external_id)
                continue
            except AuthError:
                hidden.append(external_id)
                continue
            project = issue.fields.project
            if project is None or project.key not in keys:
                hidden.append(external_id)
        at = self._now()
        with transaction(self._store.sessions) as session:
            self._summary.items_deleted += mark_items_visibility(
                session, source_id=self._source_id, external_ids=deleted, visibility=Visibility.DELETED, at=at
            )
            self._summary.items_hidden += mark_items_visibility(
                session, source_id=self._source_id, external_ids=hidden, visibility=Visibility.HIDDEN, at=at
            )


def _jql_since(scope: _Scope) -> Callable[[int | None], str]:
    return lambda since_ms: scope.jql(since_ms=since_ms)


def _write_previous(
    batches: JiraBatches, previous: Staged | None, staged: Staged, committer: CommitBehind
) -> Staged:
    if previous is not None:
        batches.write(previous, committer=committer)
    return staged
