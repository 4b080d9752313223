"""Comments: list, create (ADF on v3, text on v2, with `properties`), update, delete, by ids; properties."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.jira.adf import adf_to_html, is_valid_adf, text_to_adf
from sandbox.jira.http import API_VERSIONS, ApiError, Ctx, jira_endpoint, json_response
from sandbox.jira.model import Comment, Issue
from sandbox.jira.routes_issue import check_property, property_keys, property_missing
from sandbox.jira.routes_search import split_param
from sandbox.jira.state import JiraWorld

COMMENT_PAGE_MAX = 100
COMMENT_LIST_MAX = 1000


def _comment_json(ctx: Ctx, comment: Comment, expand: set[str]) -> dict[str, Any]:
    body = ctx.renderer.comment(comment)
    if "renderedBody" in expand:
        body["renderedBody"] = adf_to_html(comment.body)
    if "properties" in expand:
        body["properties"] = [{"key": k, "value": v} for k, v in comment.properties.items()]
    return body


def _find_comment(ctx: Ctx, issue: Issue | None = None) -> Comment:
    raw = ctx.path("id")
    comment = ctx.world.comments.get(int(raw)) if raw.isdigit() else None
    if comment is None or (issue is not None and comment.issue_id != issue.id):
        raise ApiError(404, [f"Can not find a comment for the id: {raw}."])
    return comment


def _parse_body(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """The ADF document to store: v3 requires ADF, v2 takes plain/wiki text (reference §6)."""
    raw = data.get("body")
    if raw is None or raw == "":
        raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
    if ctx.version == "3":
        if not is_valid_adf(raw):
            raise ApiError(400, [], {"comment": "Comment body is not valid!"})
        document: dict[str, Any] = raw
        return document
    if not isinstance(raw, str):
        raise ApiError(400, ["Can not deserialize instance of java.lang.String out of START_OBJECT token"])
    return text_to_adf(raw)


def _parse_visibility(data: dict[str, Any]) -> dict[str, str] | None:
    visibility = data.get("visibility")
    if visibility is None:
        return None
    if not isinstance(visibility, dict) or visibility.get("type") not in ("group", "role"):
        raise ApiError(
            400, [], {"commentLevel": "You are currently not a member of the project role or group."}
        )
    return {k: str(v) for k, v in visibility.items()}


def _parse_properties(data: dict[str, Any]) -> dict[str, Any]:
    raw = data.get("properties") or []
    if not isinstance(raw, list):
        raise ApiError(400, ["properties must be a list of {key, value} objects."])
    properties: dict[str, Any] = {}
    for entry in raw:
        if not isinstance(entry, dict) or "key" not in entry:
            raise ApiError(400, ["properties must be a list of {key, value} objects."])
        key = str(entry["key"])
        properties[key] = check_property(key, orjson.dumps(entry.get("value")))
    return properties


def list_comments(ctx: Ctx) -> Response:
    issue = ctx.issue()
    start_at = ctx.int_param("startAt", 0)
    limit = ctx.int_param("maxResults", COMMENT_PAGE_MAX, maximum=COMMENT_PAGE_MAX)
    order = ctx.query.get("orderBy", "created")
    comments = sorted(issue.comments, key=lambda c: (c.created_ms, c.id), reverse=order.startswith("-"))
    expand = set(split_param(ctx.query.getlist("expand")))
    window = comments[start_at : start_at + limit]
    return json_response(
        {
            "comments": [_comment_json(ctx, c, expand) for c in window],
            "maxResults": limit,
            "startAt": start_at,
            "total": len(comments),
        }
    )


def create_comment(ctx: Ctx) -> Response:
    issue = ctx.issue()
    data = ctx.json_object()
    body = _parse_body(ctx, data)
    visibility = _parse_visibility(data)
    properties = _parse_properties(data)
    ctx.check_issue_write(issue)
    if len(issue.comments) >= ctx.world.settings.max_comments_per_issue:
        raise ApiError(413, ["The issue has reached the limit of comments per issue."])
    comment = ctx.world.add_comment(
        issue, body, author_id=ctx.caller.account_id, visibility=visibility, properties=properties
    )
    return json_response(_comment_json(ctx, comment, set(split_param(ctx.query.getlist("expand")))), 201)


def get_comment(ctx: Ctx) -> Response:
    comment = _find_comment(ctx, ctx.issue())
    return json_response(_comment_json(ctx, comment, set(split_param(ctx.query.getlist("expand")))))


def update_comment(ctx: Ctx) -> Response:
    issue = ctx.issue()
    comment = _find_comment(ctx, issue)
    data = ctx.json_object()
    body = _parse_body(ctx, data)
    visibility = _parse_visibility(data)
    ctx.check_issue_write(issue)
    ctx.world.update_comment(comment, body, author_id=ctx.caller.account_id, visibility=visibility)
    return json_response(_comment_json(ctx, comment, set(split_param(ctx.query.getlist("expand")))))


def delete_comment(ctx: Ctx) -> Response:
    issue = ctx.issue()
    comment = _find_comment(ctx, issue)
    ctx.check_issue_write(issue)
    ctx.world.delete_comment(comment)
    return Response(status_code=204)


def comments_by_ids(ctx: Ctx) -> Response:
    ids = ctx.json_object().get("ids")
    if not isinstance(ids, list) or len(ids) > COMMENT_LIST_MAX:
        raise ApiError(400, [f"ids must be a list of at most {COMMENT_LIST_MAX} comment ids."])
    expand = set(split_param(ctx.query.getlist("expand")))
    found = [ctx.world.comments.get(int(i)) for i in ids if str(i).isdigit()]
    values = [_comment_json(ctx, c, expand) for c in found if c is not None]
    return json_response(
        {"maxResults": len(values), "startAt": 0, "total": len(values), "isLast": True, "values": values}
    )


def comment_property_keys(ctx: Ctx) -> Response:
    comment = _find_comment(ctx)
    return json_response(
        property_keys(f"{ctx.renderer.api}/comment/{comment.id}/properties", comment.properties)
    )


def get_comment_property(ctx: Ctx) -> Response:
    comment, key = _find_comment(ctx), ctx.path("propertyKey")
    if key not in comment.properties:
        raise property_missing(key)
    return json_response({"key": key, "value": comment.properties[key]})


def put_comment_property(ctx: Ctx) -> Response:
    comment, key = _find_comment(ctx), ctx.path("propertyKey")
    value = check_property(key, ctx.body)
    ctx.check_issue_write(ctx.world.issues[comment.issue_id])
    created = key not in comment.properties
    comment.properties[key] = value
    return Response(status_code=201 if created else 200)


def delete_comment_property(ctx: Ctx) -> Response:
    comment, key = _find_comment(ctx), ctx.path("propertyKey")
    if comment.properties.pop(key, None) is None:
        raise property_missing(key)
    return Response(status_code=204)


def comment_routes(world: JiraWorld) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for segment, version in API_VERSIONS:
        p = f"/rest/api/{segment}"
        one = f"{p}/issue/{{issueIdOrKey}}/comment/{{id}}"
        prop = f"{p}/comment/{{id}}/properties/{{propertyKey}}"
        routes += [
            jira_endpoint(
                world, f"{p}/issue/{{issueIdOrKey}}/comment", ["GET"], list_comments, version=version
            ),
            jira_endpoint(
                world, f"{p}/issue/{{issueIdOrKey}}/comment", ["POST"], create_comment, version=version
            ),
            jira_endpoint(world, one, ["GET"], get_comment, version=version),
            jira_endpoint(world, one, ["PUT"], update_comment, version=version),
            jira_endpoint(world, one, ["DELETE"], delete_comment, version=version),
            jira_endpoint(world, f"{p}/comment/list", ["POST"], comments_by_ids, version=version),
            jira_endpoint(
                world, f"{p}/comment/{{id}}/properties", ["GET"], comment_property_keys, version=version
            ),
            jira_endpoint(world, prop, ["GET"], get_comment_property, version=version),
            jira_endpoint(world, prop, ["PUT"], put_comment_property, version=version),
            jira_endpoint(world, prop, ["DELETE"], delete_comment_property, version=version),
        ]
    return routes
