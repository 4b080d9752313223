"""Jira's issue representation: chosen fields and expand (changelog, transitions, renderedFields, names)."""

from __future__ import annotations

from typing import Any

from connectors.sandbox.jira.adf import adf_to_html, text_to_adf
from connectors.sandbox.jira.fields import FIELD_BY_ID
from connectors.sandbox.jira.model import (
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
from connectors.sandbox.jira.render_parts import ISSUE_EXPAND, Json, PartsRenderer, duration

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
        world = self.world
        if field_id == "summary":
            return issue.summary
        if field_id == "status":
            return self.status(issue.status)
        if field_id == "issuetype":
            return self.issue_type(issue.type_id)
        if field_id == "priority":
            return self.priority(issue.priority_id)
        if field_id == "project":
            return self.project(issue.project_id)
        if field_id == "assignee":
            return self.user(issue.assignee_id)
        if field_id in ("reporter", "creator"):
            return self.user(issue.reporter_id)
        if field_id == "created":
            return self.time(issue.created_ms)
        if field_id == "updated":
            return self.time(issue.updated_ms)
        if field_id == "resolutiondate":
            return self.time(issue.resolution_ms)
        if field_id == "resolution":
            if issue.resolution_ms is None:
                return None
            return {"self": f"{self.api}/resolution/10000", "id": "10000", "description": "", "name": "Done"}
        if field_id == "statuscategorychangedate":
            return self.time(issue.status_changed_ms or issue.created_ms)
        if field_id == "duedate":
            return issue.duedate
        if field_id == "description":
            return self.text(issue.description)
        if field_id == "labels":
            return list(issue.labels)
        if field_id in ("components", "versions", "issuelinks"):
            return []
        if field_id == "fixVersions":
            return [self.version_json(world.versions[v]) for v in issue.fix_version_ids]
        if field_id == "parent":
            parent = world.issues.get(issue.parent_id) if issue.parent_id is not None else None
            return self.issue_link(parent) if parent is not None else None
        if field_id == "subtasks":
            return [
                self.issue_link(world.issues[i]) for i in world.subtask_ids(issue.id) if i in world.issues
            ]
        if field_id == "timetracking":
            return _timetracking(issue)
        if field_id in ("timeoriginalestimate", "aggregatetimeoriginalestimate"):
            return issue.original_estimate_s
        if field_id in ("timeestimate", "aggregatetimeestimate"):
            return _remaining(issue)
        if field_id in ("timespent", "aggregatetimespent"):
            return issue.time_spent_s
        if field_id in ("progress", "aggregateprogress"):
            return _progress(issue)
        if field_id == "comment":
            comments = issue.comments if embedded_cap is None else issue.comments[:embedded_cap]
            return {
                "comments": [self.comment(c) for c in comments],
                "self": f"{self.api}/issue/{issue.id}/comment",
                "maxResults": len(comments),
                "total": len(issue.comments),
                "startAt": 0,
            }
        if field_id == "worklog":
            # Jira embeds at most 20 worklogs; the rest is behind GET …/worklog.
            worklogs = issue.worklogs[:20]
            return {
                "startAt": 0,
                "maxResults": 20,
                "total": len(issue.worklogs),
                "worklogs": [self.worklog(w) for w in worklogs],
            }
        if field_id == "watches":
            return {"self": f"{self.api}/issue/{issue.key}/watchers", "watchCount": 1, "isWatching": False}
        if field_id == "votes":
            return {"self": f"{self.api}/issue/{issue.key}/votes", "votes": 0, "hasVoted": False}
        if field_id == "environment":
            return None
        if field_id == START_DATE_FIELD:
            return issue.start_date
        if field_id == STORY_POINTS_FIELD:
            return issue.story_points
        if field_id == RANK_FIELD:
            return issue.rank
        if field_id == SPRINT_FIELD:
            return [self.sprint_json(s) for s in issue.sprint_ids] or None
        if field_id == FLAGGED_FIELD:
            if not issue.flagged:
                return None
            option = f"{self.api}/customFieldOption/{FLAGGED_OPTION_ID}"
            return [{"self": option, "value": "Impediment", "id": FLAGGED_OPTION_ID}]
        return None


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
