"""The Jira part of the control API (mounted under /_sandbox/jira): mutate the site as a user would
(issues; comments added, edited and deleted; worklogs), add users (Jira Cloud has no user create
for apps), register webhook callbacks, tune search lag and rate limits. Every issue mutation records
the changelog and sends the webhooks the real service would; worklogs move the issue's `updated` and
time spent and feed `/worklog/updated` and `/worklog/deleted`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.jira.adf import text_to_adf
from sandbox.jira.changes import UNSET, IssueChanges, UnknownValueError
from sandbox.jira.jql import JqlError
from sandbox.jira.model import ISSUE_TYPE_BY_NAME, Comment, Issue, Worklog
from sandbox.jira.state import JiraWorld
from sandbox.jira.timefmt import to_ms, zone
from sandbox.jira.webhooks import COMMENT_EVENTS, ISSUE_EVENTS, PLAN_EVENTS, PROPERTY_EVENTS

ControlHandler = Callable[[JiraWorld, Request, dict[str, Any]], Any]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def _issue(world: JiraWorld, request: Request) -> Issue:
    key = str(request.path_params["key"])
    issue = world.find_issue(key)
    if issue is None:
        raise ControlError(404, f"no issue {key}")
    return issue


def _version_ids(world: JiraWorld, issue: Issue, value: Any) -> tuple[int, ...]:
    refs = value if isinstance(value, list) else ([] if value is None else [value])
    ids: list[int] = []
    for ref in refs:
        found = [
            v for v in world.resolve_versions(str(ref)) if world.versions[v].project_id == issue.project_id
        ]
        if not found:
            raise ControlError(400, f"no version {ref} in {world.projects[issue.project_id].key}")
        ids.append(found[0])
    return tuple(ids)


def changes_from(world: JiraWorld, issue: Issue, body: dict[str, Any]) -> IssueChanges:
    """IssueChanges from a control body: status, duedate, startDate, assignee, fixVersions|milestone,
    flagged, storyPoints, sprint, summary, labels."""
    fix_versions = body.get("fixVersions", body.get("milestone", UNSET))
    sprint = body.get("sprint", UNSET)
    return IssueChanges(
        status=str(body["status"]) if "status" in body else UNSET,
        duedate=body.get("duedate", UNSET),
        start_date=body.get("startDate", UNSET),
        assignee_id=body.get("assignee", UNSET),
        fix_version_ids=UNSET if fix_versions is UNSET else _version_ids(world, issue, fix_versions),
        flagged=bool(body["flagged"]) if "flagged" in body else UNSET,
        story_points=body.get("storyPoints", UNSET),
        sprint_ids=UNSET if sprint is UNSET else (() if sprint is None else (int(sprint),)),
        summary=str(body["summary"]) if "summary" in body else UNSET,
        labels=tuple(body["labels"]) if "labels" in body else UNSET,
    )


def _history_json(world: JiraWorld, issue: Issue) -> dict[str, Any]:
    return {
        "key": issue.key,
        "id": str(issue.id),
        "updated": issue.updated_ms,
        "histories": len(issue.histories),
    }


def update_issue(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    issue = _issue(world, request)
    history = world.update_issue(issue, changes_from(world, issue, body), actor_id=body.get("actor"))
    return {**_history_json(world, issue), "changed": history is not None}


def _single(field: str) -> ControlHandler:
    def handler(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
        if field not in body:
            raise ControlError(400, f"body needs {field!r}")
        return update_issue(world, request, {field: body[field], "actor": body.get("actor")})

    return handler


def create_issue(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    project = world.find_project(str(body.get("project", "")))
    if project is None:
        raise ControlError(404, f"no project {body.get('project')}")
    type_name = str(body.get("type", "Task"))
    if type_name.lower() not in ISSUE_TYPE_BY_NAME:
        raise ControlError(400, f"no issue type {type_name}")
    parent = world.find_issue(str(body["parent"])) if body.get("parent") else None
    issue = world.create_issue(
        project,
        summary=str(body.get("summary") or "New issue"),
        type_name=type_name,
        actor_id=body.get("actor"),
        parent_id=parent.id if parent is not None else None,
        description=body.get("description"),
    )
    return {"key": issue.key, "id": str(issue.id)}


def delete_issue(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    issue = _issue(world, request)
    world.delete_issue(issue, actor_id=body.get("actor"))
    return {"deleted": issue.key}


def _comment(world: JiraWorld, request: Request) -> Comment:
    comment = world.comments.get(int(request.path_params["comment_id"]))
    if comment is None:
        raise ControlError(404, f"no comment {request.path_params['comment_id']}")
    return comment


def update_comment(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    """Edit a comment's text (`text`) as `actor`: comment_updated is sent, the issue's `updated` moves."""
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise ControlError(400, "body needs a non-empty 'text'")
    comment = world.update_comment(_comment(world, request), text_to_adf(text), author_id=body.get("actor"))
    return {"id": str(comment.id), "updated": comment.updated_ms}


def delete_comment(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    comment = _comment(world, request)
    world.delete_comment(comment)
    return {"deleted": str(comment.id)}


def add_comment(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    issue = _issue(world, request)
    comment = world.add_comment(issue, text_to_adf(str(body.get("text", ""))), author_id=body.get("actor"))
    return {"id": str(comment.id), "key": issue.key}


def _worklog(world: JiraWorld, request: Request) -> Worklog:
    worklog = world.worklogs.get(int(request.path_params["worklog_id"]))
    if worklog is None:
        raise ControlError(404, f"no worklog {request.path_params['worklog_id']}")
    return worklog


def _seconds(body: dict[str, Any], *, required: bool) -> int | None:
    value = body.get("seconds")
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ControlError(400, "'seconds' must be a positive whole number")
    return value


def _started_ms(body: dict[str, Any]) -> int | None:
    """`started` as an ISO 8601 instant with its offset."""
    value = body.get("started")
    if value is None:
        return None
    try:
        started = datetime.fromisoformat(str(value))
    except ValueError:
        raise ControlError(400, "'started' must be an ISO 8601 instant") from None
    if started.tzinfo is None:
        raise ControlError(400, "'started' needs its UTC offset")
    return to_ms(started)


def add_worklog(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    """Log `seconds` of work on the issue, started at `started` (default: now)."""
    issue = _issue(world, request)
    seconds = _seconds(body, required=True)
    assert seconds is not None
    started = _started_ms(body)
    worklog = world.add_worklog(
        issue,
        seconds=seconds,
        started_ms=world.now_ms() if started is None else started,
        author_id=body.get("actor"),
        comment=str(body.get("comment", "")),
    )
    return {"id": str(worklog.id), "key": issue.key}


def update_worklog(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    worklog = world.update_worklog(
        _worklog(world, request), seconds=_seconds(body, required=False), started_ms=_started_ms(body)
    )
    return {"id": str(worklog.id), "seconds": worklog.time_spent_s, "started": worklog.started_ms}


def delete_worklog(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    worklog = _worklog(world, request)
    world.delete_worklog(worklog)
    return {"deleted": str(worklog.id)}


def add_user(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    """A person joining the site (`displayName`, `email`, optional `timeZone`): Jira Cloud has no
    user create for apps, so only the control API adds one. They can then be assigned, lead a
    project, and are found by the user searches."""
    name, email = body.get("displayName"), body.get("email")
    if not isinstance(name, str) or not name.strip():
        raise ControlError(400, "body needs a non-empty 'displayName'")
    if not isinstance(email, str) or "@" not in email:
        raise ControlError(400, "body needs an 'email'")
    if any(u.email.lower() == email.lower() for u in world.users.values()):
        raise ControlError(409, f"a user with email {email} exists")
    time_zone = body.get("timeZone")
    if time_zone is not None and not _known_zone(str(time_zone)):
        raise ControlError(400, f"unknown time zone {time_zone}")
    user = world.add_user(name.strip(), email, time_zone=None if time_zone is None else str(time_zone))
    return {"accountId": user.account_id, "displayName": user.display_name, "email": user.email}


def _known_zone(name: str) -> bool:
    try:
        zone(name)
    except (ValueError, KeyError):
        return False
    return True


def register_webhook(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    url = body.get("url")
    if not isinstance(url, str):
        raise ControlError(400, "body needs 'url'")
    events = tuple(body.get("events") or (*ISSUE_EVENTS, *COMMENT_EVENTS, *PROPERTY_EVENTS, *PLAN_EVENTS))
    try:
        registration = world.webhooks.register(
            url=url,
            events=events,
            jql=body.get("jql"),
            name=str(body.get("name", "sandbox")),
            secret=body.get("secret", world.credentials.webhook_secret),
        )
    except JqlError as error:
        raise ControlError(400, error.message) from None
    return {"id": registration.id, "url": registration.url, "events": list(registration.events)}


def list_webhooks(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    return [
        {
            "id": r.id,
            "url": r.url,
            "events": list(r.events),
            "jql": r.jql,
            "dynamic": r.dynamic,
            "signed": bool(r.secret),
        }
        for r in world.webhooks.registrations.values()
    ]


def delete_webhook(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    if not world.webhooks.remove(int(request.path_params["webhook_id"])):
        raise ControlError(404, "no such webhook")
    return {"deleted": True}


def update_settings(world: JiraWorld, request: Request, body: dict[str, Any]) -> Any:
    """Search lag (seconds), rate-limit knobs; `resetLimits` forgets past usage."""
    if "searchLagSeconds" in body:
        world.settings.search_lag_s = float(body["searchLagSeconds"])
    limits = world.limiter.config
    if "rateLimitsEnabled" in body:
        limits.enabled = bool(body["rateLimitsEnabled"])
    if "burstCapacity" in body:
        limits.burst_capacity = int(body["burstCapacity"])
    if "burstRefillPerSecond" in body:
        limits.burst_refill_per_s = float(body["burstRefillPerSecond"])
    if body.get("resetLimits"):
        world.limiter.reset()
    return {
        "searchLagSeconds": world.settings.search_lag_s,
        "rateLimitsEnabled": limits.enabled,
        "burstCapacity": limits.burst_capacity,
        "burstRefillPerSecond": limits.burst_refill_per_s,
    }


def _route(world: JiraWorld, path: str, method: str, handler: ControlHandler, status: int = 200) -> Route:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ControlError(400, "body must be a JSON object")
            with world.lock:
                return _json(handler(world, request, body), status)
        except orjson.JSONDecodeError:
            return _json({"error": "body is not JSON"}, 400)
        except ControlError as error:
            return _json({"error": error.message}, error.status)
        except UnknownValueError as error:
            return _json({"error": f"unknown {error}"}, 400)

    return Route(path, endpoint, methods=[method])


def jira_control_routes(world: JiraWorld) -> list[BaseRoute]:
    return [
        _route(world, "/issues", "POST", create_issue, 201),
        _route(world, "/issues/{key}", "PATCH", update_issue),
        _route(world, "/issues/{key}", "DELETE", delete_issue),
        _route(world, "/comments/{comment_id:int}", "PATCH", update_comment),
        _route(world, "/comments/{comment_id:int}", "DELETE", delete_comment),
        _route(world, "/issues/{key}/status", "POST", _single("status")),
        _route(world, "/issues/{key}/duedate", "POST", _single("duedate")),
        _route(world, "/issues/{key}/assignee", "POST", _single("assignee")),
        _route(world, "/issues/{key}/milestone", "POST", _single("milestone")),
        _route(world, "/issues/{key}/flag", "POST", _single("flagged")),
        _route(world, "/issues/{key}/comments", "POST", add_comment, 201),
        _route(world, "/issues/{key}/worklogs", "POST", add_worklog, 201),
        _route(world, "/worklogs/{worklog_id:int}", "PATCH", update_worklog),
        _route(world, "/worklogs/{worklog_id:int}", "DELETE", delete_worklog),
        _route(world, "/users", "POST", add_user, 201),
        _route(world, "/webhooks", "POST", register_webhook, 201),
        _route(world, "/webhooks", "GET", list_webhooks),
        _route(world, "/webhooks/{webhook_id:int}", "DELETE", delete_webhook),
        _route(world, "/settings", "POST", update_settings),
    ]
