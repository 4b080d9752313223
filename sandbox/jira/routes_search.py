"""Search: enhanced JQL search (Cloud), approximate count, and `/search`: Data Center's offset-paged
search on /rest/api/2 and /latest, removed from Cloud (410 on /rest/api/2, 3 and latest alike)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.jira.fields import FIELD_BY_ID, select_fields
from sandbox.jira.http import API_VERSIONS, CLOUD, ApiError, Ctx, jira_endpoint, json_response
from sandbox.jira.index import Position
from sandbox.jira.jql import JqlError
from sandbox.jira.jqlcompile import CompiledQuery
from sandbox.jira.state import JiraWorld

DEFAULT_MAX_RESULTS = 50
# `maxResults` is honoured up to 5000 only for id/key-only searches; with fields Cloud caps pages at 100
# (measured: maxResults=5000&fields=summary → 100 issues, reference §2).
MAX_RESULTS_IDS_ONLY = 5000
MAX_RESULTS_WITH_FIELDS = 100
MAX_RECONCILE_IDS = 50
MAX_PROPERTIES = 5
DC_MAX_RESULTS = 1000
REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
_POST_KEYS = {
    "jql", "nextPageToken", "maxResults", "fields", "expand",
    "properties", "fieldsByKeys", "failFast", "reconcileIssues",
}  # fmt: skip


def split_param(values: Any) -> list[str]:
    if values is None:
        return []
    items = values if isinstance(values, list) else [values]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _fingerprint(jql: str) -> str:
    return hashlib.sha1(jql.encode(), usedforsecurity=False).hexdigest()[:16]


def encode_token(fingerprint: str, position: Position) -> str:
    raw = orjson.dumps({"q": fingerprint, "p": list(position)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, fingerprint: str) -> Position:
    invalid = ApiError(400, ["The provided next page token is invalid or expired."])
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise invalid from None
    if not isinstance(data, dict) or data.get("q") != fingerprint or not isinstance(data.get("p"), list):
        raise invalid
    return tuple(int(v) for v in data["p"])


def _compile(ctx: Ctx, jql: str, *, allow_unbounded: bool = False) -> CompiledQuery:
    try:
        return ctx.world.compile(jql, allow_unbounded=allow_unbounded)
    except JqlError as error:
        raise ApiError(400, [error.message]) from None


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(400, [f"The {name} parameter must be an integer."]) from None
    if number < 0:
        raise ApiError(400, [f"The {name} parameter must be positive."])
    return number


def _enhanced_search(ctx: Ctx, params: dict[str, Any]) -> Response:
    jql = str(params.get("jql") or "")
    fields = select_fields(split_param(params.get("fields")), default="id")
    cap = MAX_RESULTS_WITH_FIELDS if fields else MAX_RESULTS_IDS_ONLY
    limit = min(_int(params.get("maxResults"), "maxResults", DEFAULT_MAX_RESULTS) or DEFAULT_MAX_RESULTS, cap)
    expand = set(split_param(params.get("expand")))
    properties = tuple(split_param(params.get("properties")))
    if len(properties) > MAX_PROPERTIES:
        raise ApiError(400, [f"The number of properties requested exceeds the limit of {MAX_PROPERTIES}."])
    try:
        reconcile = [int(v) for v in split_param(params.get("reconcileIssues"))]
    except ValueError:
        raise ApiError(400, ["reconcileIssues must be a list of issue ids."]) from None
    if len(reconcile) > MAX_RECONCILE_IDS:
        raise ApiError(400, [f"The number of issues to reconcile exceeds the limit of {MAX_RECONCILE_IDS}."])
    query = _compile(ctx, jql)
    fingerprint = _fingerprint(jql)
    token = params.get("nextPageToken")
    after = decode_token(str(token), fingerprint) if token else None
    settings = ctx.world.settings
    page = ctx.world.search(query, fingerprint=fingerprint, after=after, limit=limit, reconcile=reconcile)
    render = ctx.renderer.issue
    issues = [
        render(
            issue,
            fields=fields,
            expand=expand,
            properties=properties,
            changelog_cap=settings.changelog_cap_search,
            embedded_cap=settings.comment_cap_search,
        )
        for issue in page.issues
    ]
    body: dict[str, Any] = {"issues": issues}
    if page.next_position is not None:
        body["nextPageToken"] = encode_token(fingerprint, page.next_position)
    body["isLast"] = page.next_position is None
    if "names" in expand:
        body["names"] = {f: FIELD_BY_ID[f].name for f in fields}
    if "schema" in expand:
        body["schema"] = {f: FIELD_BY_ID[f].schema for f in fields}
    return json_response(body)


def search_jql_get(ctx: Ctx) -> Response:
    query = ctx.query
    params: dict[str, Any] = {key: query.get(key) for key in query}
    for repeated in ("fields", "properties", "reconcileIssues", "expand"):
        params[repeated] = query.getlist(repeated) or None
    return _enhanced_search(ctx, params)


def search_jql_post(ctx: Ctx) -> Response:
    body = ctx.json_object()
    unknown = sorted(set(body) - _POST_KEYS)
    if unknown:
        # The request bean has additionalProperties:false (reference §2).
        raise ApiError(
            400,
            [
                f'Unrecognized field "{unknown[0]}" '
                "(Class com.atlassian.jira.rest.v2.search.SearchAndReconcileRequestBean), "
                "not marked as ignorable"
            ],
        )
    return _enhanced_search(ctx, body)


def approximate_count(ctx: Ctx) -> Response:
    body = ctx.json_object()
    jql = str(body.get("jql") or "")
    query = _compile(ctx, jql)
    page = ctx.world.search(query, fingerprint=_fingerprint(jql), after=None, limit=10**9)
    return json_response({"count": len(page.issues)})


def removed_search(ctx: Ctx) -> Response:
    raise ApiError(410, [REMOVED_SEARCH])


def _dc_search(ctx: Ctx, params: dict[str, Any]) -> Response:
    jql = str(params.get("jql") or "")
    start_at = _int(params.get("startAt"), "startAt", 0)
    limit = min(_int(params.get("maxResults"), "maxResults", DEFAULT_MAX_RESULTS), DC_MAX_RESULTS)
    fields = select_fields(split_param(params.get("fields")), default="*navigable")
    expand = set(split_param(params.get("expand")))
    query = _compile(ctx, jql, allow_unbounded=True)
    page = ctx.world.search(query, fingerprint=_fingerprint(jql), after=None, limit=10**9)
    window = page.issues[start_at : start_at + limit]
    render = ctx.renderer.issue
    return json_response(
        {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": limit,
            "total": len(page.issues),
            "issues": [render(issue, fields=fields, expand=expand) for issue in window],
        }
    )


def dc_search_get(ctx: Ctx) -> Response:
    if ctx.caller.deployment == CLOUD:
        return removed_search(ctx)
    query = ctx.query
    params: dict[str, Any] = {key: query.get(key) for key in query}
    params["fields"] = query.getlist("fields") or None
    return _dc_search(ctx, params)


def dc_search_post(ctx: Ctx) -> Response:
    if ctx.caller.deployment == CLOUD:
        return removed_search(ctx)
    return _dc_search(ctx, ctx.json_object())


def search_routes(world: JiraWorld) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for segment, version in API_VERSIONS:
        prefix = f"/rest/api/{segment}"
        routes += [
            jira_endpoint(world, f"{prefix}/search/jql", ["GET"], search_jql_get, version=version),
            jira_endpoint(world, f"{prefix}/search/jql", ["POST"], search_jql_post, version=version),
            jira_endpoint(
                world, f"{prefix}/search/approximate-count", ["POST"], approximate_count, version=version
            ),
        ]
        if segment == "3":
            # Data Center has no v3, and Cloud removed /search (reference §2).
            routes.append(jira_endpoint(world, f"{prefix}/search", ["GET", "POST"], removed_search))
        else:
            routes += [
                jira_endpoint(world, f"{prefix}/search", ["GET"], dc_search_get, version=version),
                jira_endpoint(world, f"{prefix}/search", ["POST"], dc_search_post, version=version),
            ]
    return routes
