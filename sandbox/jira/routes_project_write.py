"""Writes to the site's projects and versions (platform API), and the user searches that show who
can be assigned. Bad input is a 400 in Jira's error shape, checked whole before anything changes.

Error texts follow Jira Cloud's as far as known; none is pinned by the descriptions (unverified).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.jira.http import API_VERSIONS, ApiError, Ctx, jira_endpoint, json_response
from sandbox.jira.model import Version
from sandbox.jira.planning import VersionChanges
from sandbox.jira.state import JiraWorld

# "start with an uppercase letter followed by one or more uppercase alphanumeric characters. The
# maximum length is 10 characters" (CreateProjectDetails.key in the platform description).
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9]+$")
PROJECT_KEY_MAX = 10
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PROJECT_TYPES = ("software", "service_desk", "business")
USER_PAGE_MAX = 1000


def _text(data: dict[str, Any], name: str, errors: dict[str, str], message: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        errors[name] = message
        return ""
    return value.strip()


def create_project(ctx: Ctx) -> Response:
    data = ctx.json_object()
    world = ctx.world
    errors: dict[str, str] = {}
    key = data.get("key")
    if not isinstance(key, str) or not _PROJECT_KEY.match(key):
        errors["projectKey"] = (
            "Project keys must start with an uppercase letter, followed by one or more uppercase "
            "alphanumeric characters."
        )
    elif len(key) > PROJECT_KEY_MAX:
        errors["projectKey"] = f"The project key must not exceed {PROJECT_KEY_MAX} characters in length."
    elif key in world.project_by_key:
        errors["projectKey"] = (
            f"Project '{world.projects[world.project_by_key[key]].name}' uses this project key."
        )
    name = _text(data, "name", errors, "You must specify a valid project name.")
    if name and any(p.name.lower() == name.lower() for p in world.projects.values()):
        errors["projectName"] = "A project with that name already exists."
    lead = data.get("leadAccountId")
    if not isinstance(lead, str) or lead not in world.users:
        errors["projectLead"] = "You must specify a valid project lead."
    project_type = data.get("projectTypeKey", "software")
    if project_type not in PROJECT_TYPES:
        errors["projectTypeKey"] = "You must specify a valid project type."
    description = data.get("description", "")
    if not isinstance(description, str):
        errors["description"] = "The description must be text."
    if errors:
        raise ApiError(400, [], errors)
    assert isinstance(key, str) and isinstance(lead, str) and isinstance(description, str)
    project = world.create_project(key, name, lead_id=lead, description=description)
    return json_response(
        {"self": f"{ctx.renderer.api}/project/{project.id}", "id": project.id, "key": project.key}, 201
    )


def _day(data: dict[str, Any], name: str, errors: dict[str, str]) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str) and _DAY.match(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    errors[name] = "Please enter the date in the following format: yyyy-MM-dd"
    return None


def _check_version(
    ctx: Ctx, data: dict[str, Any], *, project_id: int, current: Version | None
) -> tuple[VersionChanges, dict[str, str]]:
    """The changes a version body asks for, and its errors (field → message)."""
    errors: dict[str, str] = {}
    name = data.get("name")
    if current is None or "name" in data:
        name = _text(data, "name", errors, "You must specify a valid version name")
        taken = [
            v
            for v in ctx.world.versions.values()
            if v.project_id == project_id and v.name.lower() == name.lower() and v is not current
        ]
        if name and taken:
            errors["name"] = "A version with this name already exists in this project."
    start, release = _day(data, "startDate", errors), _day(data, "releaseDate", errors)
    for flag in ("released", "archived"):
        if flag in data and not isinstance(data[flag], bool):
            errors[flag] = f"The {flag} value must be true or false."
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        errors["description"] = "The description must be text."
    first = start if "startDate" in data else (current.start_date if current else None)
    last = release if "releaseDate" in data else (current.release_date if current else None)
    if not errors and first and last and first > last:
        errors["startDate"] = "The start date must be before the release date."
    changes = VersionChanges(
        name=name if isinstance(name, str) and name else None,
        description=description,
        start_date=start,
        release_date=release,
        clear_start_date="startDate" in data and data["startDate"] is None,
        clear_release_date="releaseDate" in data and data["releaseDate"] is None,
        released=data.get("released"),
        archived=data.get("archived"),
    )
    return changes, errors


def create_version(ctx: Ctx) -> Response:
    data = ctx.json_object()
    raw_project = data.get("projectId")
    if raw_project is None:
        raise ApiError(400, [], {"projectId": "Project must be specified to create a version."})
    if (
        not isinstance(raw_project, int)
        or isinstance(raw_project, bool)
        or raw_project not in ctx.world.projects
    ):
        raise ApiError(404, [f"Project with id '{raw_project}' not found."])
    changes, errors = _check_version(ctx, data, project_id=raw_project, current=None)
    if errors:
        raise ApiError(400, [], errors)
    assert changes.name is not None
    version = ctx.world.create_version(
        raw_project,
        changes.name,
        description=changes.description or "",
        start_date=changes.start_date,
        release_date=changes.release_date,
        released=bool(changes.released),
    )
    return json_response(ctx.renderer.version_json(version), 201)


def _version(ctx: Ctx) -> Version:
    raw = ctx.path("id")
    version = ctx.world.versions.get(int(raw)) if raw.isdigit() else None
    if version is None:
        raise ApiError(404, [f"Could not find version for id '{raw}'"])
    return version


def get_version(ctx: Ctx) -> Response:
    return json_response(ctx.renderer.version_json(_version(ctx)))


def update_version(ctx: Ctx) -> Response:
    """Move dates, rename, release or archive; `"releaseDate": null` clears the date."""
    version = _version(ctx)
    data = ctx.json_object()
    changes, errors = _check_version(ctx, data, project_id=version.project_id, current=version)
    if errors:
        raise ApiError(400, [], errors)
    ctx.world.update_version(version, changes)
    return json_response(ctx.renderer.version_json(version))


def _users(ctx: Ctx, account_ids: list[str]) -> Response:
    start_at = ctx.int_param("startAt", 0)
    limit = ctx.int_param("maxResults", 50, maximum=USER_PAGE_MAX) or 50
    return json_response([ctx.renderer.user(a) for a in account_ids[start_at : start_at + limit]])


def _matching(ctx: Ctx) -> list[str]:
    """Active users whose name or email starts with the query (Jira matches word starts; unverified)."""
    query = ctx.query.get("query", "").strip().lower()
    account_id = ctx.query.get("accountId")
    found = []
    for user in ctx.world.users.values():
        if account_id and user.account_id != account_id:
            continue
        words = [*user.display_name.lower().split(), user.email.lower()]
        if query and not any(word.startswith(query) for word in words):
            continue
        found.append(user.account_id)
    return found


def find_users(ctx: Ctx) -> Response:
    if not ctx.query.get("query") and not ctx.query.get("accountId") and not ctx.query.get("property"):
        raise ApiError(
            400, ["One of 'query' or 'accountId' or 'property' query parameters must be provided."]
        )
    return _users(ctx, _matching(ctx))


def find_assignable_users(ctx: Ctx) -> Response:
    """Every active user may be assigned in the sandbox's projects (one permission scheme for all)."""
    refs = [ctx.query.get(name) for name in ("project", "issueKey", "issueId")]
    if not any(refs):
        raise ApiError(400, ["A project, issue key or issue id must be provided."])
    project, issue_key, issue_id = refs
    if project and ctx.world.find_project(project) is None:
        raise ApiError(404, [f"No project could be found with key '{project}'."])
    for ref in (issue_key, issue_id):
        if ref and ctx.world.find_issue(ref) is None:
            raise ApiError(404, ["Issue does not exist or you do not have permission to see it."])
    active = [a for a in _matching(ctx) if ctx.world.users[a].active]
    return _users(ctx, active)


def project_write_routes(world: JiraWorld) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for segment, version in API_VERSIONS:
        p = f"/rest/api/{segment}"
        routes += [
            jira_endpoint(world, f"{p}/project", ["POST"], create_project, version=version),
            jira_endpoint(world, f"{p}/version", ["POST"], create_version, version=version),
            jira_endpoint(world, f"{p}/version/{{id}}", ["GET"], get_version, version=version),
            jira_endpoint(world, f"{p}/version/{{id}}", ["PUT"], update_version, version=version),
            jira_endpoint(world, f"{p}/user/search", ["GET"], find_users, version=version),
            jira_endpoint(
                world, f"{p}/user/assignable/search", ["GET"], find_assignable_users, version=version
            ),
        ]
    return routes
