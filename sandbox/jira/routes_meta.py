"""Site metadata: serverInfo (Cloud, or Data Center to a personal access token), myself, fields,
statuses, users, projects and their versions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.jira.fields import field_catalog
from sandbox.jira.http import API_VERSIONS, CLOUD, ApiError, Ctx, jira_endpoint, json_response
from sandbox.jira.model import STATUS_CATEGORIES, STATUSES, Project
from sandbox.jira.routes_search import split_param
from sandbox.jira.state import JiraWorld
from sandbox.jira.timefmt import format_jira

PROJECT_PAGE_MAX = 100
VERSION_PAGE_MAX = 50
# What a Data Center node reports (a 9.12 long-term-support release).
DATA_CENTER_VERSION = "9.12.15"


def paged(ctx: Ctx, path: str, values: list[Any], *, default_max: int, maximum: int) -> dict[str, Any]:
    """Jira's PageBean: {self, nextPage?, maxResults, startAt, total, isLast, values}."""
    start_at = ctx.int_param("startAt", 0)
    limit = ctx.int_param("maxResults", default_max, maximum=maximum) or default_max
    window = values[start_at : start_at + limit]
    is_last = start_at + len(window) >= len(values)
    body: dict[str, Any] = {
        "self": f"{ctx.renderer.api}/{path}?maxResults={limit}&startAt={start_at}",
        "maxResults": limit,
        "startAt": start_at,
        "total": len(values),
        "isLast": is_last,
    }
    if not is_last:
        body["nextPage"] = f"{ctx.renderer.api}/{path}?maxResults={limit}&startAt={start_at + limit}"
    body["values"] = window
    return body


def server_info(ctx: Ctx) -> Response:
    now = ctx.world.now_ms()
    # pycontribs only enables enhanced search when deploymentType is "Cloud" (reference §13).
    deployment = ctx.caller.deployment
    cloud = deployment == CLOUD
    return json_response(
        {
            "baseUrl": ctx.renderer.base,
            "displayUrl": ctx.renderer.base,
            "version": "1001.0.0-SNAPSHOT" if cloud else DATA_CENTER_VERSION,
            "versionNumbers": [1001, 0, 0] if cloud else [int(n) for n in DATA_CENTER_VERSION.split(".")],
            "deploymentType": deployment,
            "buildNumber": 100289 if cloud else 912015,
            "buildDate": "2025-09-01T00:00:00.000+0000",
            "serverTime": format_jira(now, ctx.world.tz),
            "scmInfo": "5330f7d9a1e6b0c2d8e4f7a9b3c5d1e2f4a6b8c0",
            "serverTitle": "Jira",
        }
    )


def myself(ctx: Ctx) -> Response:
    user = ctx.renderer.user(ctx.caller.account_id)
    return json_response(
        {
            **(user or {}),
            "locale": "en_US",
            "groups": {"size": 2, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        }
    )


def fields(ctx: Ctx) -> Response:
    return json_response(field_catalog())


def statuses(ctx: Ctx) -> Response:
    return json_response([ctx.renderer.status(s) for s in STATUSES])


def status_categories(ctx: Ctx) -> Response:
    return json_response(
        [ctx.renderer.status(s)["statusCategory"] for s in STATUSES if s.category in STATUS_CATEGORIES]
    )


def user(ctx: Ctx) -> Response:
    account_id = ctx.query.get("accountId", "")
    if account_id not in ctx.world.users:
        raise ApiError(
            404, [f"Specified user does not exist or you do not have required permissions: {account_id}"]
        )
    return json_response(ctx.renderer.user(account_id))


def _project(ctx: Ctx) -> Project:
    ref = ctx.path("projectIdOrKey")
    project = ctx.world.find_project(ref)
    if project is None:
        raise ApiError(404, [f"No project could be found with key '{ref}'."])
    return project


def project_search(ctx: Ctx) -> Response:
    projects = sorted(ctx.world.projects.values(), key=lambda p: p.key)
    keys = {k.upper() for k in split_param(ctx.query.getlist("keys"))}
    ids = {int(i) for i in split_param(ctx.query.getlist("id")) if i.isdigit()}
    if keys or ids:
        projects = [p for p in projects if p.key in keys or p.id in ids]
        if not projects:
            raise ApiError(404, ["No project could be found with the given criteria."])
    text = ctx.query.get("query", "").lower()
    if text:
        projects = [p for p in projects if text in p.key.lower() or text in p.name.lower()]
    order = ctx.query.get("orderBy", "key")
    if order.lstrip("+-") == "name":
        projects.sort(key=lambda p: p.name.lower())
    if order.startswith("-"):
        projects.reverse()
    values = [ctx.renderer.project_full(p.id) for p in projects]
    return json_response(paged(ctx, "project/search", values, default_max=50, maximum=PROJECT_PAGE_MAX))


def project_list(ctx: Ctx) -> Response:
    """`GET /rest/api/2/project`: every visible project in one array, how Data Center lists them
    (Cloud keeps the endpoint but pages `project/search` instead)."""
    projects = sorted(ctx.world.projects.values(), key=lambda p: p.key)
    return json_response([ctx.renderer.project_full(p.id) for p in projects])


def project(ctx: Ctx) -> Response:
    found = _project(ctx)
    versions = [ctx.renderer.version_json(v) for v in ctx.world.versions.values() if v.project_id == found.id]
    return json_response({**ctx.renderer.project_full(found.id), "versions": versions})


def project_versions(ctx: Ctx) -> Response:
    """Not paginated: every version of the project (reference §5)."""
    found = _project(ctx)
    return json_response(
        [ctx.renderer.version_json(v) for v in ctx.world.versions.values() if v.project_id == found.id]
    )


def project_versions_paged(ctx: Ctx) -> Response:
    found = _project(ctx)
    versions = [v for v in ctx.world.versions.values() if v.project_id == found.id]
    wanted = set(split_param(ctx.query.getlist("status")))
    if wanted:
        versions = [
            v
            for v in versions
            if ("released" in wanted and v.released and not v.archived)
            or ("unreleased" in wanted and not v.released and not v.archived)
            or ("archived" in wanted and v.archived)
        ]
    text = ctx.query.get("query", "").lower()
    if text:
        versions = [v for v in versions if text in v.name.lower() or text in v.description.lower()]
    order = ctx.query.get("orderBy", "")
    if order.lstrip("+-") == "releaseDate":
        versions.sort(key=lambda v: v.release_date or "9999")
    elif order.lstrip("+-") == "name":
        versions.sort(key=lambda v: v.name)
    if order.startswith("-"):
        versions.reverse()
    values = [ctx.renderer.version_json(v) for v in versions]
    path = f"project/{found.key}/version"
    return json_response(paged(ctx, path, values, default_max=VERSION_PAGE_MAX, maximum=VERSION_PAGE_MAX))


def meta_routes(world: JiraWorld) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for segment, version in API_VERSIONS:
        p = f"/rest/api/{segment}"
        routes += [
            jira_endpoint(world, f"{p}/serverInfo", ["GET"], server_info, version=version, anonymous=True),
            jira_endpoint(world, f"{p}/myself", ["GET"], myself, version=version),
            jira_endpoint(world, f"{p}/field", ["GET"], fields, version=version),
            jira_endpoint(world, f"{p}/status", ["GET"], statuses, version=version),
            jira_endpoint(world, f"{p}/statuscategory", ["GET"], status_categories, version=version),
            jira_endpoint(world, f"{p}/user", ["GET"], user, version=version),
            jira_endpoint(world, f"{p}/project", ["GET"], project_list, version=version),
            jira_endpoint(world, f"{p}/project/search", ["GET"], project_search, version=version),
            jira_endpoint(world, f"{p}/project/{{projectIdOrKey}}", ["GET"], project, version=version),
            jira_endpoint(
                world, f"{p}/project/{{projectIdOrKey}}/versions", ["GET"], project_versions, version=version
            ),
            jira_endpoint(
                world,
                f"{p}/project/{{projectIdOrKey}}/version",
                ["GET"],
                project_versions_paged,
                version=version,
            ),
        ]
    return routes
