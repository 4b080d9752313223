"""The Jira site: its objects, their behaviour (changes record changelog and emit webhooks), search.

All access goes through `lock`: the HTTP server and in-process tests may touch the world from
different threads.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sandbox.clock import SandboxClock
from sandbox.emit import WebhookSink
from sandbox.jira.changes import IssueChanges, apply_changes
from sandbox.jira.index import Position, SearchIndex, SearchPage
from sandbox.jira.jql import parse_jql
from sandbox.jira.jqlcompile import CompiledQuery, compile_query
from sandbox.jira.limits import RateLimitConfig, RateLimiter
from sandbox.jira.model import (
    ISSUE_TYPE_BY_NAME,
    STATUSES,
    Board,
    Comment,
    History,
    Issue,
    Project,
    Sprint,
    User,
    Version,
    Worklog,
)
from sandbox.jira.planning import PlanningWrites
from sandbox.jira.settings import JiraCredentials, JiraSettings
from sandbox.jira.timefmt import to_ms, zone
from sandbox.jira.webhooks import JiraWebhooks


class JiraWorld(PlanningWrites):
    def __init__(
        self,
        *,
        clock: SandboxClock,
        sink: WebhookSink,
        credentials: JiraCredentials,
        settings: JiraSettings | None = None,
        rate_limits: RateLimitConfig | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.credentials = credentials
        self.settings = settings or JiraSettings()
        self.tz = zone(self.settings.timezone)
        self.monotonic = monotonic
        self.lock = threading.RLock()
        self.limiter = RateLimiter(rate_limits or RateLimitConfig(), monotonic)
        self.users: dict[str, User] = {}
        self.projects: dict[int, Project] = {}
        self.project_by_key: dict[str, int] = {}
        self.versions: dict[int, Version] = {}
        self.boards: dict[int, Board] = {}
        self.sprints: dict[int, Sprint] = {}
        self.issues: dict[int, Issue] = {}
        self.issue_by_key: dict[str, int] = {}
        self.comments: dict[int, Comment] = {}
        self.worklogs: dict[int, Worklog] = {}
        # Deleted worklog ids and when, for GET /worklog/deleted.
        self.deleted_worklogs: dict[int, int] = {}
        self._children: dict[int, list[int]] = {}
        self.index = SearchIndex()
        self.webhooks = JiraWebhooks(self, sink)
        self._issue_ids = itertools.count(10000)
        self._project_ids = itertools.count(10000)
        self._version_ids = itertools.count(10000)
        self._board_ids = itertools.count(1)
        self._sprint_ids = itertools.count(1)
        self.history_ids = itertools.count(10000)
        self.comment_ids = itertools.count(10000)
        self.worklog_ids = itertools.count(10000)
        self.current_account_id = self.add_user("Sandbox Integration", credentials.email).account_id

    # -- time -------------------------------------------------------------------------------------
    @property
    def site_url(self) -> str:
        return self.settings.site_url

    def now_ms(self) -> int:
        return to_ms(self.clock.now())

    def today(self) -> str:
        return self.clock.now().astimezone(self.tz).date().isoformat()

    def human_time(self, ms: int | None) -> str | None:
        if ms is None:
            return None
        return datetime.fromtimestamp(ms / 1000, self.tz).strftime("%d/%b/%y %I:%M %p")

    # -- lookups (also the JqlSite protocol) ---------------------------------------------------------
    def display_name(self, account_id: str | None) -> str | None:
        return None if account_id is None else self.users[account_id].display_name

    def sprint_names(self, sprint_ids: Iterable[int]) -> str | None:
        return ", ".join(self.sprints[s].name for s in sprint_ids) or None

    def subtask_ids(self, issue_id: int) -> list[int]:
        return self._children.get(issue_id, [])

    def find_project(self, ref: str) -> Project | None:
        project_id = self.resolve_project(ref)
        return None if project_id is None else self.projects[project_id]

    def find_issue(self, ref: str) -> Issue | None:
        issue_id = self.resolve_issue(ref)
        return None if issue_id is None else self.issues.get(issue_id)

    def resolve_project(self, ref: str) -> int | None:
        if ref.isdigit() and int(ref) in self.projects:
            return int(ref)
        found = self.project_by_key.get(ref.upper())
        if found is not None:
            return found
        return next((p.id for p in self.projects.values() if p.name.lower() == ref.lower()), None)

    def resolve_issue(self, ref: str) -> int | None:
        if ref.isdigit():
            return int(ref) if int(ref) in self.issues else None
        return self.issue_by_key.get(ref.upper())

    def resolve_user(self, ref: str) -> str | None:
        if ref in self.users:
            return ref
        lowered = ref.lower()
        return next(
            (
                u.account_id
                for u in self.users.values()
                if lowered in (u.email.lower(), u.display_name.lower())
            ),
            None,
        )

    def resolve_versions(self, ref: str) -> set[int]:
        if ref.isdigit() and int(ref) in self.versions:
            return {int(ref)}
        return {v.id for v in self.versions.values() if v.name.lower() == ref.lower()}

    def versions_released(self, released: bool) -> set[int]:
        return {v.id for v in self.versions.values() if v.released == released}

    def resolve_sprints(self, ref: str) -> set[int]:
        if ref.isdigit() and int(ref) in self.sprints:
            return {int(ref)}
        return {s.id for s in self.sprints.values() if s.name.lower() == ref.lower()}

    def sprints_in_state(self, state: str) -> set[int]:
        return {s.id for s in self.sprints.values() if s.state == state}

    # -- building the site (scenarios, control API) -------------------------------------------------
    def add_user(self, display_name: str, email: str, *, time_zone: str | None = None) -> User:
        account_id = f"5b10ac8d82e05b22cc7d{len(self.users):04x}"
        user = User(account_id, display_name, email, time_zone or self.settings.timezone)
        self.users[account_id] = user
        return user

    def add_project(self, key: str, name: str, *, lead_id: str, client: str = "") -> Project:
        project = Project(next(self._project_ids), key.upper(), name, lead_id, client)
        self.projects[project.id] = project
        self.project_by_key[project.key] = project.id
        return project

    def add_version(self, project_id: int, name: str, **attributes: Any) -> Version:
        version = Version(next(self._version_ids), project_id, name, **attributes)
        self.versions[version.id] = version
        return version

    def add_board(self, project_id: int, name: str) -> Board:
        board = Board(next(self._board_ids), name, project_id)
        self.boards[board.id] = board
        return board

    def add_sprint(self, board_id: int, name: str, state: str, **attributes: Any) -> Sprint:
        sprint = Sprint(next(self._sprint_ids), board_id, name, state, **attributes)
        self.sprints[sprint.id] = sprint
        return sprint

    def new_issue(
        self, project: Project, *, type_name: str, summary: str, reporter_id: str, at_ms: int
    ) -> Issue:
        """An issue object with the next id and key, not yet registered (see `load_issues`)."""
        number = project.next_number
        project.next_number += 1
        return Issue(
            id=next(self._issue_ids),
            key=f"{project.key}-{number}",
            number=number,
            project_id=project.id,
            type_id=ISSUE_TYPE_BY_NAME[type_name.lower()].id,
            summary=summary,
            status_id=STATUSES[0].id,
            priority_id="3",
            reporter_id=reporter_id,
            created_ms=at_ms,
            updated_ms=at_ms,
            rank=f"0|i{number:05d}:",
        )

    def load_issues(self, issues: Iterable[Issue]) -> None:
        """Register generated issues without webhooks, then index them in one pass."""
        batch = list(issues)
        for issue in batch:
            self._register(issue)
        self.index.add_sorted_bulk(batch)

    def _register(self, issue: Issue) -> None:
        self.issues[issue.id] = issue
        self.issue_by_key[issue.key] = issue.id
        if issue.parent_id is not None:
            self._children.setdefault(issue.parent_id, []).append(issue.id)
        for comment in issue.comments:
            self.comments[comment.id] = comment
        for worklog in issue.worklogs:
            self.worklogs[worklog.id] = worklog

    # -- search ---------------------------------------------------------------------------------------
    def compile(self, jql: str, *, allow_unbounded: bool = False) -> CompiledQuery:
        return compile_query(parse_jql(jql), self, allow_unbounded=allow_unbounded)

    def search(
        self,
        query: CompiledQuery,
        *,
        fingerprint: str,
        after: Position | None,
        limit: int,
        reconcile: Iterable[int] = (),
    ) -> SearchPage:
        self.index.catch_up(self.monotonic(), self.issues.get)
        reconciled = {issue_id: self.issues.get(issue_id) for issue_id in reconcile}
        return self.index.search(
            query, fingerprint=fingerprint, after=after, limit=limit, reconciled=reconciled
        )

    def _before_change(self, issue: Issue) -> None:
        if self.settings.search_lag_s > 0:
            self.index.freeze(issue)

    def _after_change(self, issue_id: int) -> None:
        if self.settings.search_lag_s > 0:
            self.index.schedule(issue_id, self.monotonic() + self.settings.search_lag_s)
        else:
            self.index.apply(issue_id, self.issues.get(issue_id))

    # -- behaviour: every change is what Jira would record and send -------------------------------
    def create_issue(
        self,
        project: Project,
        *,
        summary: str,
        type_name: str = "Task",
        actor_id: str | None = None,
        parent_id: int | None = None,
        description: str | None = None,
    ) -> Issue:
        actor = actor_id or self.current_account_id
        issue = self.new_issue(
            project, type_name=type_name, summary=summary, reporter_id=actor, at_ms=self.now_ms()
        )
        issue.parent_id = parent_id
        issue.description = description
        self._register(issue)
        self._after_change(issue.id)
        self.webhooks.issue_event("jira:issue_created", issue, actor)
        return issue

    def update_issue(
        self, issue: Issue, changes: IssueChanges, *, actor_id: str | None = None
    ) -> History | None:
        """Apply `changes`: one changelog history when anything changed, and a jira:issue_updated delivery."""
        actor = actor_id or self.current_account_id
        at_ms = self.now_ms()
        self._before_change(issue)
        items = apply_changes(self, issue, changes, at_ms)
        if not items:
            return None
        history = History(next(self.history_ids), actor, at_ms, tuple(items))
        issue.histories.append(history)
        issue.updated_ms = at_ms
        self._after_change(issue.id)
        self.webhooks.issue_event("jira:issue_updated", issue, actor, history)
        return history

    def delete_issue(self, issue: Issue, *, actor_id: str | None = None) -> None:
        """Delete an issue and its subtasks; comment_deleted follows as a Secondary flow."""
        actor = actor_id or self.current_account_id
        for child_id in list(self._children.get(issue.id, [])):
            child = self.issues.get(child_id)
            if child is not None:
                self.delete_issue(child, actor_id=actor)
        self._before_change(issue)
        del self.issues[issue.id]
        self.issue_by_key.pop(issue.key, None)
        if issue.parent_id is not None and issue.id in self._children.get(issue.parent_id, []):
            self._children[issue.parent_id].remove(issue.id)
        for comment in issue.comments:
            self.comments.pop(comment.id, None)
        deleted_ms = self.now_ms()
        for worklog in issue.worklogs:
            # Assumed (unverified against Jira) to be listed as deleted with their issue.
            if self.worklogs.pop(worklog.id, None) is not None:
                self.deleted_worklogs[worklog.id] = deleted_ms
        self._after_change(issue.id)
        self.webhooks.issue_event("jira:issue_deleted", issue, actor)
        for comment in issue.comments:
            self.webhooks.comment_event("comment_deleted", issue, comment, flow="Secondary")

    def _touch(self, issue: Issue) -> None:
        # Comments and worklogs move the issue's `updated`, so incremental syncs see them.
        self._before_change(issue)
        issue.updated_ms = self.now_ms()
        self._after_change(issue.id)

    def add_comment(
        self,
        issue: Issue,
        body: dict[str, Any],
        *,
        author_id: str | None = None,
        visibility: dict[str, str] | None = None,
        properties: dict[str, Any] | None = None,
    ) -> Comment:
        author = author_id or self.current_account_id
        now = self.now_ms()
        comment = Comment(
            next(self.comment_ids),
            issue.id,
            author,
            body,
            now,
            now,
            author,
            visibility,
            dict(properties or {}),
        )
        self._touch(issue)
        issue.comments.append(comment)
        self.comments[comment.id] = comment
        self.webhooks.comment_event("comment_created", issue, comment)
        return comment

    def update_comment(
        self,
        comment: Comment,
        body: dict[str, Any],
        *,
        author_id: str | None = None,
        visibility: dict[str, str] | None = None,
    ) -> Comment:
        issue = self.issues[comment.issue_id]
        self._touch(issue)
        comment.body = body
        comment.updated_ms = self.now_ms()
        comment.update_author_id = author_id or self.current_account_id
        if visibility is not None:
            comment.visibility = visibility
        self.webhooks.comment_event("comment_updated", issue, comment)
        return comment

    def delete_comment(self, comment: Comment) -> None:
        issue = self.issues[comment.issue_id]
        self._touch(issue)
        issue.comments.remove(comment)
        del self.comments[comment.id]
        self.webhooks.comment_event("comment_deleted", issue, comment)

    def set_issue_property(self, issue: Issue, key: str, value: Any, *, actor_id: str | None = None) -> bool:
        created = key not in issue.properties
        issue.properties[key] = value
        self.webhooks.property_event(
            "issue_property_set", issue, key, value, actor_id or self.current_account_id
        )
        return created

    def delete_issue_property(self, issue: Issue, key: str, *, actor_id: str | None = None) -> bool:
        if key not in issue.properties:
            return False
        value = issue.properties.pop(key)
        self.webhooks.property_event(
            "issue_property_deleted", issue, key, value, actor_id or self.current_account_id
        )
        return True

    def add_worklog(
        self, issue: Issue, *, seconds: int, started_ms: int, author_id: str | None = None, comment: str = ""
    ) -> Worklog:
        now = self.now_ms()
        worklog = Worklog(
            next(self.worklog_ids),
            issue.id,
            author_id or self.current_account_id,
            started_ms,
            seconds,
            now,
            now,
            comment,
        )
        self._touch(issue)
        issue.worklogs.append(worklog)
        issue.time_spent_s = (issue.time_spent_s or 0) + seconds
        self.worklogs[worklog.id] = worklog
        return worklog

    def update_worklog(
        self, worklog: Worklog, *, seconds: int | None = None, started_ms: int | None = None
    ) -> Worklog:
        """Change the time or the start of a worklog; the issue's time spent follows, as in Jira."""
        issue = self.issues[worklog.issue_id]
        self._touch(issue)
        if seconds is not None:
            issue.time_spent_s = max(0, (issue.time_spent_s or 0) - worklog.time_spent_s + seconds)
            worklog.time_spent_s = seconds
        if started_ms is not None:
            worklog.started_ms = started_ms
        worklog.updated_ms = self.now_ms()
        return worklog

    def delete_worklog(self, worklog: Worklog) -> None:
        issue = self.issues[worklog.issue_id]
        self._touch(issue)
        issue.worklogs.remove(worklog)
        issue.time_spent_s = max(0, (issue.time_spent_s or 0) - worklog.time_spent_s) or None
        del self.worklogs[worklog.id]
        self.deleted_worklogs[worklog.id] = self.now_ms()
