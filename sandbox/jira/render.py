"""Jira's issue representation: chosen fields and expand (changelog, transitions, renderedFields, names)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.jira.adf import adf_to_html, text_to_adf
from sandbox.jira.fields import FIELD_BY_ID
from sandbox.jira.model import (
    FLAGGED_FIELD,
    FLAGGED_OPTION_ID,
    RANK_FIELD,
    SPRINT_FIELD,
    START_DATE_FIELD,
    STATUSES,
    STORY_POINTS_FIELD,
    Issue,
    Status,
)
from sandbox.jira.render_parts import ISSUE_EXPAND, Json, PartsRenderer, duration

_TIME_FIELDS = ("created", "updated", "resolutiondate", "statuscategorychangedate")


class Renderer(PartsRenderer):
    def embedded_changelog(self, issue: Issue, cap: int) -> Json:
        """The most recent `cap` histories, oldest first, with the true total (reference §2)."""
        histories = issue.histories[-cap:] if cap else []
        return {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(issue.histories),
            "histories": [self.history(h) for h in histories],
        }

    def issue(
        self,
        issue: Issue,
        *,
        fields: tuple[str, ...],
        expand: set[str],
        properties: tuple[str, ...] = (),
        changelog_cap: int = 100,
        embedded_cap: int | None = None,
    ) -> Json:
        body: Json = {
            "expand": ISSUE_EXPAND,
            "id": str(issue.id),
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
        }
        values = {field_id: self.field_value(issue, field_id, embedded_cap) for field_id in fields}
        body["fields"] = values
        if "renderedFields" in expand:
            body["renderedFields"] = {field_id: self.rendered_value(issue, field_id) for field_id in fields}
        if "names" in expand:
            body["names"] = {field_id: FIELD_BY_ID[field_id].name for field_id in fields}
        if "schema" in expand:
            body["schema"] = {field_id: FIELD_BY_ID[field_id].schema for field_id in fields}
        if "transitions" in expand:
            body["transitions"] = [self.transition(s) for s in STATUSES if s.id != issue.status_id]
        if "changelog" in expand:
            body["changelog"] = self.embedded_changelog(issue, changelog_cap)
        if properties:
            body["properties"] = {k: issue.properties[k] for k in properties if k in issue.properties}
        return body

    def transition(self, status: Status) -> Json:
        return {
            "id": status.transition_id,
            "name": status.name,
            "to": self.status(status),
            "hasScreen": False,
            "isGlobal": True,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }

    def rendered_value(self, issue: Issue, field_id: str) -> Any:
        if field_id == "description":
            return adf_to_html(text_to_adf(issue.description)) if issue.description else None
        if field_id in _TIME_FIELDS:
            ms = {"created": issue.created_ms, "updated": issue.updated_ms}.get(field_id, issue.resolution_ms)
            return self.world.human_time(ms)
        if field_id == "comment":
            comments = [{**self.comment(c), "body": adf_to_html(c.body)} for c in issue.comments]
            return {"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0}
        if field_id == "duedate":
            return issue.duedate
        return None

    def field_value(self, issue: Issue, field_id: str, embedded_cap: int | None) -> Any:
        render = _FIELD_RENDERERS.get(field_id)
        return None if render is None else render(self, issue, embedded_cap)

    def _resolution(self, issue: Issue, _cap: int | None) -> Any:
        if issue.resolution_ms is None:
            return None
        return {"self": f"{self.api}/resolution/10000", "id": "10000", "description": "", "name": "Done"}

    def _fix_versions(self, issue: Issue, _cap: int | None) -> Any:
        cache = self.field_versions
        rendered = []
        for version_id in issue.fix_version_ids:
            found = cache.get(version_id)
            if found is None:
                found = cache[version_id] = self.version_json(self.world.versions[version_id])
            rendered.append(found)
        return rendered

    def _parent(self, issue: Issue, _cap: int | None) -> Any:
        parent = self.world.issues.get(issue.parent_id) if issue.parent_id is not None else None
        return self.issue_link(parent) if parent is not None else None

    def _subtasks(self, issue: Issue, _cap: int | None) -> Any:
        world = self.world
        return [self.issue_link(world.issues[i]) for i in world.subtask_ids(issue.id) if i in world.issues]

    def _comment(self, issue: Issue, embedded_cap: int | None) -> Any:
        comments = issue.comments if embedded_cap is None else issue.comments[:embedded_cap]
        return {
            "comments": [self.comment(c) for c in comments],
            "self": f"{self.api}/issue/{issue.id}/comment",
            "maxResults": len(comments),
            "total": len(issue.comments),
            "startAt": 0,
        }

    def _worklog(self, issue: Issue, _cap: int | None) -> Any:
        # Jira embeds at most 20 worklogs; the rest is behind GET …/worklog.
        worklogs = issue.worklogs[:20]
        return {
            "startAt": 0,
            "maxResults": 20,
            "total": len(issue.worklogs),
            "worklogs": [self.worklog(w) for w in worklogs],
        }

    def _sprints(self, issue: Issue, _cap: int | None) -> Any:
        cache = self.field_sprints
        rendered = []
        for sprint_id in issue.sprint_ids:
            found = cache.get(sprint_id)
            if found is None:
                found = cache[sprint_id] = self.sprint_json(sprint_id)
            rendered.append(found)
        return rendered or None

    def _flagged(self, issue: Issue, _cap: int | None) -> Any:
        if not issue.flagged:
            return None
        option = f"{self.api}/customFieldOption/{FLAGGED_OPTION_ID}"
        return [{"self": option, "value": "Impediment", "id": FLAGGED_OPTION_ID}]


FieldRenderer = Callable[[Renderer, Issue, "int | None"], Any]
# One lookup per field instead of a chain of comparisons (search pages render ~25 fields an issue).
_FIELD_RENDERERS: dict[str, FieldRenderer] = {
    "summary": lambda r, issue, _cap: issue.summary,
    "status": lambda r, issue, _cap: r.status(issue.status),
    "issuetype": lambda r, issue, _cap: r.issue_type(issue.type_id),
    "priority": lambda r, issue, _cap: r.priority(issue.priority_id),
    "project": lambda r, issue, _cap: r.project(issue.project_id),
    "assignee": lambda r, issue, _cap: r.user(issue.assignee_id),
    "reporter": lambda r, issue, _cap: r.user(issue.reporter_id),
    "creator": lambda r, issue, _cap: r.user(issue.reporter_id),
    "created": lambda r, issue, _cap: r.time(issue.created_ms),
    "updated": lambda r, issue, _cap: r.time(issue.updated_ms),
    "resolutiondate": lambda r, issue, _cap: r.time(issue.resolution_ms),
    "resolution": Renderer._resolution,
    "statuscategorychangedate": lambda r, issue, _cap: r.time(issue.status_changed_ms or issue.created_ms),
    "duedate": lambda r, issue, _cap: issue.duedate,
    "description": lambda r, issue, _cap: r.text(issue.description),
    "labels": lambda r, issue, _cap: list(issue.labels),
    "components": lambda r, issue, _cap: [],
    "versions": lambda r, issue, _cap: [],
    "issuelinks": lambda r, issue, _cap: [],
    "fixVersions": Renderer._fix_versions,
    "parent": Renderer._parent,
    "subtasks": Renderer._subtasks,
    "timetracking": lambda r, issue, _cap: _timetracking(issue),
    "timeoriginalestimate": lambda r, issue, _cap: issue.original_estimate_s,
    "aggregatetimeoriginalestimate": lambda r, issue, _cap: issue.original_estimate_s,
    "timeestimate": lambda r, issue, _cap: _remaining(issue),
    "aggregatetimeestimate": lambda r, issue, _cap: _remaining(issue),
    "timespent": lambda r, issue, _cap: issue.time_spent_s,
    "aggregatetimespent": lambda r, issue, _cap: issue.time_spent_s,
    "progress": lambda r, issue, _cap: _progress(issue),
    "aggregateprogress": lambda r, issue, _cap: _progress(issue),
    "comment": Renderer._comment,
    "worklog": Renderer._worklog,
    "watches": lambda r, issue, _cap: {
        "self": f"{r.api}/issue/{issue.key}/watchers",
        "watchCount": 1,
        "isWatching": False,
    },
    "votes": lambda r, issue, _cap: {
        "self": f"{r.api}/issue/{issue.key}/votes",
        "votes": 0,
        "hasVoted": False,
    },
    "environment": lambda r, issue, _cap: None,
    START_DATE_FIELD: lambda r, issue, _cap: issue.start_date,
    STORY_POINTS_FIELD: lambda r, issue, _cap: issue.story_points,
    RANK_FIELD: lambda r, issue, _cap: issue.rank,
    SPRINT_FIELD: Renderer._sprints,
    FLAGGED_FIELD: Renderer._flagged,
}


def _remaining(issue: Issue) -> int | None:
    if issue.original_estimate_s is None:
        return None
    return max(issue.original_estimate_s - (issue.time_spent_s or 0), 0)


def _timetracking(issue: Issue) -> Json:
    tracking: Json = {}
    if issue.original_estimate_s is not None:
        remaining = _remaining(issue) or 0
        tracking.update(
            originalEstimate=duration(issue.original_estimate_s),
            originalEstimateSeconds=issue.original_estimate_s,
            remainingEstimate=duration(remaining),
            remainingEstimateSeconds=remaining,
        )
    if issue.time_spent_s:
        tracking.update(timeSpent=duration(issue.time_spent_s), timeSpentSeconds=issue.time_spent_s)
    return tracking


def _progress(issue: Issue) -> Json:
    spent = issue.time_spent_s or 0
    total = spent + (_remaining(issue) or 0)
    progress: Json = {"progress": spent, "total": total}
    if total:
        progress["percent"] = spent * 100 // total
    return progress
