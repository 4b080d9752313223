"""Issues: fetch and delete, changelog (paged, by ids, bulk), issue properties, worklogs."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.jira.fields import select_fields
from sandbox.jira.http import API_VERSIONS, ApiError, Ctx, jira_endpoint, json_response
from sandbox.jira.model import History, Issue
from sandbox.jira.routes_search import split_param
from sandbox.jira.state import JiraWorld

CHANGELOG_PAGE_MAX = 100
BULK_CHANGELOG_MAX_ISSUES = 1000
BULK_CHANGELOG_MAX_FIELDS = 10
BULK_CHANGELOG_DEFAULT = 1000
BULK_CHANGELOG_MAX = 10000
# Worklog feeds (OpenAPI getIdsOfWorklogsModifiedSince / getIdsOfWorklogsDeletedSince): 1000 ids a
# page, and nothing changed in the minute before the request.
WORKLOG_CHANGED_PAGE = 1000
WORKLOG_SETTLE_MS = 60_000
WORKLOG_LIST_MAX = 1000
PROPERTY_MAX_BYTES = 32768
PROPERTY_KEY_MAX = 255


def get_issue(ctx: Ctx) -> Response:
    issue = ctx.issue()
    fields = select_fields(ctx.query.getlist("fields") or None, default="*all")
    expand = set(split_param(ctx.query.getlist("expand")))
    properties = tuple(split_param(ctx.query.getlist("properties")))
    body = ctx.renderer.issue(
        issue,
        fields=fields,
        expand=expand,
        properties=properties,
        changelog_cap=ctx.world.settings.changelog_cap_issue,
    )
    return json_response(body)


def delete_issue(ctx: Ctx) -> Response:
    issue = ctx.issue()
    ctx.check_issue_write(issue)
    if ctx.world.subtask_ids(issue.id) and ctx.query.get("deleteSubtasks", "false").lower() != "true":
        raise ApiError(
            400,
            [
                f"The issue '{issue.key}' has subtasks.  You must specify the 'deleteSubtasks' parameter "
                "to delete this issue and all its subtasks."
            ],
        )
    ctx.world.delete_issue(issue, actor_id=ctx.caller.account_id)
    return Response(status_code=204)


def _changelog_page(
    ctx: Ctx, issue: Issue, histories: list[History], start_at: int, limit: int
) -> dict[str, Any]:
    window = histories[start_at : start_at + limit]
    is_last = start_at + len(window) >= len(histories)
    self_url = f"{ctx.renderer.api}/issue/{issue.key}/changelog?maxResults={limit}&startAt={start_at}"
    body: dict[str, Any] = {
        "self": self_url,
        "maxResults": limit,
        "startAt": start_at,
        "total": len(histories),
        "isLast": is_last,
    }
    if not is_last:
        body["nextPage"] = (
            f"{ctx.renderer.api}/issue/{issue.key}/changelog?maxResults={limit}&startAt={start_at + limit}"
        )
    body["values"] = [ctx.renderer.history(h) for h in window]
    return body


def get_changelog(ctx: Ctx) -> Response:
    issue = ctx.issue()
    start_at = ctx.int_param("startAt", 0)
    limit = ctx.int_param("maxResults", CHANGELOG_PAGE_MAX, maximum=CHANGELOG_PAGE_MAX) or CHANGELOG_PAGE_MAX
    return json_response(_changelog_page(ctx, issue, issue.histories, start_at, limit))


def list_changelogs(ctx: Ctx) -> Response:
    issue = ctx.issue()
    ids = ctx.json_object().get("changelogIds")
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, [], {"changelogIds": "changelogIds must not be empty."})
    wanted = {int(i) for i in ids}
    histories = [h for h in issue.histories if h.id in wanted]
    # A PageOfChangelogs, like the slice `expand=changelog` embeds, not the paged list GET answers.
    return json_response(
        {
            "histories": [ctx.renderer.history(h) for h in histories],
            "maxResults": len(histories),
            "startAt": 0,
            "total": len(histories),
        }
    )


def _bulk_token(position: tuple[int, int, int]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(position))).decode().rstrip("=")


def _bulk_position(token: str) -> tuple[int, int, int]:
    try:
        created, issue_id, history_id = orjson.loads(
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        )
        return int(created), int(issue_id), int(history_id)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ApiError(400, ["The provided next page token is invalid or expired."]) from None


def bulk_changelog(ctx: Ctx) -> Response:
    """POST /changelog/bulkfetch: histories of up to 1000 issues, oldest first by (date, issue id)."""
    body = ctx.json_object()
    refs = body.get("issueIdsOrKeys")
    if not isinstance(refs, list) or not refs:
        raise ApiError(400, ["issueIdsOrKeys must not be empty."])
    if len(refs) > BULK_CHANGELOG_MAX_ISSUES:
        raise ApiError(
            400, [f"The number of issues requested exceeds the limit of {BULK_CHANGELOG_MAX_ISSUES}."]
        )
    field_ids = body.get("fieldIds") or []
    if (
        not isinstance(field_ids, list)
        or len(field_ids) > BULK_CHANGELOG_MAX_FIELDS
        or len(set(field_ids)) != len(field_ids)
    ):
        raise ApiError(400, [f"fieldIds must hold at most {BULK_CHANGELOG_MAX_FIELDS} unique field ids."])
    limit = min(int(body.get("maxResults") or BULK_CHANGELOG_DEFAULT), BULK_CHANGELOG_MAX)
    token = body.get("nextPageToken")
    after = _bulk_position(str(token)) if token else None
    entries: list[tuple[tuple[int, int, int], History]] = []
    for ref in refs:
        issue = ctx.world.find_issue(str(ref))
        if issue is None:
            continue
        for history in issue.histories:
            kept = history
            if field_ids:
                items = tuple(i for i in history.items if i.field_id in field_ids)
                if not items:
                    continue
                kept = History(history.id, history.author_id, history.created_ms, items)
            entries.append(((history.created_ms, issue.id, history.id), kept))
    entries.sort(key=lambda entry: entry[0])
    if after is not None:
        entries = [e for e in entries if e[0] > after]
    page, rest = entries[:limit], entries[limit:]
    grouped: dict[int, list[dict[str, Any]]] = {}
    for (_, issue_id, _), history in page:
        grouped.setdefault(issue_id, []).append(ctx.renderer.history(history))
    result: dict[str, Any] = {
        "issueChangeLogs": [{"issueId": str(i), "changeHistories": h} for i, h in grouped.items()]
    }
    if rest and page:
        result["nextPageToken"] = _bulk_token(page[-1][0])
    return json_response(result)


def check_property(key: str, raw: bytes) -> Any:
    if not key or len(key) > PROPERTY_KEY_MAX:
        raise ApiError(400, [f"The property key cannot be longer than {PROPERTY_KEY_MAX} characters."])
    if len(raw) > PROPERTY_MAX_BYTES:
        raise ApiError(400, [f"The property value cannot be longer than {PROPERTY_MAX_BYTES} bytes."])
    try:
        value = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise ApiError(400, ["The property value must be valid JSON."]) from None
    if value is None:
        raise ApiError(400, ["The property value cannot be empty."])
    return value


def property_keys(self_base: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"keys": [{"key": k, "self": f"{self_base}/{k}"} for k in properties]}


def property_missing(key: str) -> ApiError:
    return ApiError(404, [f"The property with key '{key}' does not exist."])


def issue_property_keys(ctx: Ctx) -> Response:
    issue = ctx.issue()
    return json_response(property_keys(f"{ctx.renderer.api}/issue/{issue.id}/properties", issue.properties))


def get_issue_property(ctx: Ctx) -> Response:
    issue, key = ctx.issue(), ctx.path("propertyKey")
    if key not in issue.properties:
        raise property_missing(key)
    return json_response({"key": key, "value": issue.properties[key]})


def put_issue_property(ctx: Ctx) -> Response:
    issue, key = ctx.issue(), ctx.path("propertyKey")
    value = check_property(key, ctx.body)
    ctx.check_issue_write(issue)
    created = ctx.world.set_issue_property(issue, key, value, actor_id=ctx.caller.account_id)
    return Response(status_code=201 if created else 200)


def delete_issue_property(ctx: Ctx) -> Response:
    issue, key = ctx.issue(), ctx.path("propertyKey")
    ctx.check_issue_write(issue)
    if not ctx.world.delete_issue_property(issue, key, actor_id=ctx.caller.account_id):
        raise property_missing(key)
    return Response(status_code=204)


def issue_worklogs(ctx: Ctx) -> Response:
    issue = ctx.issue()
    start_at = ctx.int_param("startAt", 0)
    limit = ctx.int_param("maxResults", 5000, maximum=5000)
    after = ctx.int_param("startedAfter", 0)
    before = ctx.int_param("startedBefore", 2**62)
    worklogs = [w for w in issue.worklogs if after <= w.started_ms < before]
    window = worklogs[start_at : start_at + limit]
    return json_response(
        {
            "startAt": start_at,
            "maxResults": limit,
            "total": len(worklogs),
            "worklogs": [ctx.renderer.worklog(w) for w in window],
        }
    )


def _changed_worklogs(ctx: Ctx, path: str, changed: dict[int, int]) -> Response:
    """`{values, since, until, self, lastPage[, nextPage]}` of the ids changed after `since` (epoch ms),
    oldest first, 1000 a page; the last minute's changes are left out, as Jira leaves them out."""
    since = ctx.int_param("since", 0)
    settled = ctx.world.now_ms() - WORKLOG_SETTLE_MS
    entries = sorted((at, worklog_id) for worklog_id, at in changed.items() if since < at <= settled)
    page = entries[:WORKLOG_CHANGED_PAGE]
    last = len(entries) <= WORKLOG_CHANGED_PAGE
    until = page[-1][0] if page else since
    body: dict[str, Any] = {
        "values": [{"worklogId": worklog_id, "updatedTime": at, "properties": []} for at, worklog_id in page],
        "since": since,
        "until": until,
        "self": f"{ctx.renderer.api}{path}?since={since}",
        "lastPage": last,
    }
    if not last:
        body["nextPage"] = f"{ctx.renderer.api}{path}?since={until}"
    return json_response(body)


def worklogs_updated(ctx: Ctx) -> Response:
    return _changed_worklogs(
        ctx, "/worklog/updated", {w.id: w.updated_ms for w in ctx.world.worklogs.values()}
    )


def worklogs_deleted(ctx: Ctx) -> Response:
    return _changed_worklogs(ctx, "/worklog/deleted", ctx.world.deleted_worklogs)


def list_worklogs(ctx: Ctx) -> Response:
    ids = ctx.json_object().get("ids")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > WORKLOG_LIST_MAX
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise ApiError(400, [f"ids must list between 1 and {WORKLOG_LIST_MAX} worklog ids."])
    found = [ctx.world.worklogs.get(i) for i in ids]
    return json_response([ctx.renderer.worklog(w) for w in found if w is not None])


def issue_routes(world: JiraWorld) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for segment, version in API_VERSIONS:
        p = f"/rest/api/{segment}"
        key = "{issueIdOrKey}"
        routes += [
            jira_endpoint(world, f"{p}/issue/{key}", ["GET"], get_issue, version=version),
            jira_endpoint(world, f"{p}/issue/{key}", ["DELETE"], delete_issue, version=version),
            jira_endpoint(world, f"{p}/issue/{key}/changelog", ["GET"], get_changelog, version=version),
            jira_endpoint(
                world, f"{p}/issue/{key}/changelog/list", ["POST"], list_changelogs, version=version
            ),
            jira_endpoint(world, f"{p}/changelog/bulkfetch", ["POST"], bulk_changelog, version=version),
            jira_endpoint(
                world, f"{p}/issue/{key}/properties", ["GET"], issue_property_keys, version=version
            ),
            jira_endpoint(
                world,
                f"{p}/issue/{key}/properties/{{propertyKey}}",
                ["GET"],
                get_issue_property,
                version=version,
            ),
            jira_endpoint(
                world,
                f"{p}/issue/{key}/properties/{{propertyKey}}",
                ["PUT"],
                put_issue_property,
                version=version,
            ),
            jira_endpoint(
                world,
                f"{p}/issue/{key}/properties/{{propertyKey}}",
                ["DELETE"],
                delete_issue_property,
                version=version,
            ),
            jira_endpoint(world, f"{p}/issue/{key}/worklog", ["GET"], issue_worklogs, version=version),
            jira_endpoint(world, f"{p}/worklog/updated", ["GET"], worklogs_updated, version=version),
            jira_endpoint(world, f"{p}/worklog/deleted", ["GET"], worklogs_deleted, version=version),
            jira_endpoint(world, f"{p}/worklog/list", ["POST"], list_worklogs, version=version),
        ]
    return routes
