"""Jira comments as activity: who commented on which issue, and when; never the text.

A comment moves its issue's `updated`, so the issues whose comments changed since a pass are those
updated since it. A pass searches them (`project in (…) AND updated >= since`, the issues' own
JQL) asking for the `comment` field alone: one call per 100 issues, where `GET /issue/{id}/comment`
would cost one per issue. A search embeds at most 20 comments an issue (reference §2, unverified)
and says how many there are; an issue with more is read whole through `GET …/comment` (100 a
page). Each listed issue's stored comments are then made the complete set Jira listed: an edit
moves a comment's time forward, a deleted comment goes. The issues' own search, which stores each
issue as Jira sent it, never asks for comments: their text must not reach the database.

- Incremental: since the `comments` cursor (`{"updated_ms": …}`) less the overlap; each page is
  applied in one transaction with the cursor that covers it, and a finished pass moves the cursor
  to the issues' cursor. It never passes the issues' cursor: an issue updated after the issues'
  search may not be stored yet, and is listed again next time. A run whose issues' cursor has not
  passed the comments' skips the pass: no comment changed.
- Full (a full sync, a census, or a source without the cursor): every issue in scope.

Comments of issues the store does not hold are left out; they come with the issue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from connectors.jira import JiraClient
from connectors.jira.models import JiraCommentStamp, JiraIssue
from service.domain.work import Activity
from service.store.activity import save_item_comments
from service.store.db import Session, transaction
from service.store.runtime import Store
from service.store.sync_state import find_cursor, save_cursor
from service.sync.jira_batches import CURSOR_SCOPE as ISSUES_CURSOR_SCOPE
from service.sync.jira_mapping import map_comment
from service.sync.summary import SyncSummary

CURSOR_SCOPE = "comments"
SEARCH_PAGE_SIZE = 100  # the real cap when fields are requested (reference §2)
SEARCH_FIELDS = ("comment", "updated")

JqlSince = Callable[[int | None], str]


class JiraCommentSync:
    def __init__(
        self,
        store: Store,
        *,
        source_id: int,
        client: JiraClient,
        summary: SyncSummary,
        now: Callable[[], datetime],
        overlap: timedelta,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._source_id = source_id
        self._client = client
        self._summary = summary
        self._now = now
        self._overlap = overlap
        self._progress = progress

    def run(self, jql: JqlSince, *, full: bool) -> None:
        """Read the comments of the issues `jql(since_ms)` lists (every issue in scope when full)."""
        since_ms = None if full else self._since_ms()
        pages = self._client.iter_search_pages(
            jql(since_ms), fields=SEARCH_FIELDS, page_size=SEARCH_PAGE_SIZE
        )
        for page in pages:
            self._apply_page(page.issues)
        # Every stored issue updated up to the issues' cursor has been read.
        with transaction(self._store.sessions) as session:
            issues = find_cursor(session, source_id=self._source_id, scope=ISSUES_CURSOR_SCOPE)
            if issues:
                self._save_cursor(session, int(issues["updated_ms"]))

    def caught_up(self) -> bool:
        """Whether the comments have been read up to where the issues have."""
        with self._store.sessions() as session:
            comments = find_cursor(session, source_id=self._source_id, scope=CURSOR_SCOPE)
            issues = find_cursor(session, source_id=self._source_id, scope=ISSUES_CURSOR_SCOPE)
        if not comments or not issues:
            return False
        return int(comments["updated_ms"]) >= int(issues["updated_ms"])

    def apply_issue_comments(self, issue_id: str) -> list[int]:
        """Read every comment of one issue and store them as its complete set (a comment webhook);
        returns the store ids of the items whose comments changed. Cursors do not move."""
        comments = {issue_id: self._activity(issue_id, self._client.iter_comments(issue_id))}
        with transaction(self._store.sessions) as session:
            changed = save_item_comments(session, source_id=self._source_id, comments=comments)
        self._summary.activity_changed += len(changed)
        return changed

    def _apply_page(self, issues: Sequence[JiraIssue]) -> None:
        comments: dict[str, list[Activity]] = {}
        newest_ms: int | None = None
        for issue in issues:
            embedded = issue.fields.comment
            if embedded is None:
                # The field did not come back: nothing can be said of this issue's comments.
                continue
            listed = embedded.comments if embedded.is_complete else list(self._client.iter_comments(issue.id))
            comments[issue.id] = self._activity(issue.id, listed)
            updated = issue.fields.updated
            if updated is not None:
                updated_ms = int(updated.timestamp() * 1000)
                newest_ms = updated_ms if newest_ms is None else max(newest_ms, updated_ms)
        with transaction(self._store.sessions) as session:
            changed = save_item_comments(session, source_id=self._source_id, comments=comments)
            if newest_ms is not None:
                issues_cursor = find_cursor(session, source_id=self._source_id, scope=ISSUES_CURSOR_SCOPE)
                if issues_cursor:
                    newest_ms = min(newest_ms, int(issues_cursor["updated_ms"]))
                self._save_cursor(session, newest_ms)
        self._summary.activity_changed += len(changed)
        if self._progress is not None:
            # No items advance, but the lease is renewed between pages of a long pass.
            self._progress(0)

    def _activity(self, issue_id: str, comments: Iterable[JiraCommentStamp]) -> list[Activity]:
        mapped = (map_comment(comment, issue_id=issue_id, source_id=self._source_id) for comment in comments)
        return [activity for activity in mapped if activity is not None]

    def _save_cursor(self, session: Session, updated_ms: int) -> None:
        save_cursor(
            session,
            source_id=self._source_id,
            scope=CURSOR_SCOPE,
            position={"updated_ms": updated_ms},
            now=self._now(),
        )

    def _since_ms(self) -> int | None:
        with self._store.sessions() as session:
            cursor = find_cursor(session, source_id=self._source_id, scope=CURSOR_SCOPE)
        if not cursor:
            return None
        return int(cursor["updated_ms"]) - int(self._overlap.total_seconds() * 1000)
