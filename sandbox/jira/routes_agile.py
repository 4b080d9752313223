"""Jira Software's agile API (/rest/agile/1.0): boards, sprints and their issues, startAt-paged."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.jira.agile_json import AGILE, board_json, sprint_json
from sandbox.jira.fields import select_fields
from sandbox.jira.http import ApiError, Ctx, jira_endpoint, json_response
from sandbox.jira.jql import JqlError
from sandbox.jira.jqlcompile import CompiledQuery
from sandbox.jira.model import Board, Issue, Sprint
from sandbox.jira.routes_search import split_param
from sandbox.jira.state import JiraWorld

PAGE_MAX = 50


def _page(ctx: Ctx, values: list[Any], *, with_total: bool = True) -> dict[str, Any]:
    start_at = ctx.int_param("startAt", 0)
    limit = ctx.int_param("maxResults", PAGE_MAX, maximum=PAGE_MAX) or PAGE_MAX
    window = values[start_at : start_at + limit]
    body: dict[str, Any] = {"maxResults": limit, "startAt": start_at}
    if with_total:
        body["total"] = len(values)
    body["isLast"] = start_at + len(window) >= len(values)
    body["values"] = window
    return body


# A board's sprints are listed closed first, then active, then future, each in backlog order (the
# sandbox's backlog order is creation order): reference §5a.
_STATE_ORDER = {"closed": 0, "active": 1, "future": 2}
SPRINT_STATES = frozenset(_STATE_ORDER)


def _sprint_json(ctx: Ctx, sprint: Sprint) -> dict[str, Any]:
    return sprint_json(ctx.world, ctx.renderer.base, sprint)


def _board_json(ctx: Ctx, board: Board) -> dict[str, Any]:
    return board_json(ctx.world, ctx.renderer.base, board)


def _board(ctx: Ctx) -> Board:
    raw = ctx.path("boardId")
    board = ctx.world.boards.get(int(raw)) if raw.isdigit() else None
    if board is None:
        raise ApiError(404, ["Board does not exist or you do not have permission to see it."])
    return board


def _sprint(ctx: Ctx) -> Sprint:
    raw = ctx.path("sprintId")
    sprint = ctx.world.sprints.get(int(raw)) if raw.isdigit() else None
    if sprint is None:
        raise ApiError(404, [f"Sprint with id {raw} does not exist or you do not have permission to see it."])
    return sprint


def boards(ctx: Ctx) -> Response:
    found = sorted(ctx.world.boards.values(), key=lambda b: b.id)
    project_ref = ctx.query.get("projectKeyOrId")
    if project_ref:
        project_id = ctx.world.resolve_project(project_ref)
        found = [b for b in found if b.project_id == project_id]
    board_type = ctx.query.get("type")
    if board_type:
        found = [b for b in found if b.type in split_param(board_type)]
    name = ctx.query.get("name", "").lower()
    if name:
        found = [b for b in found if name in b.name.lower()]
    return json_response(_page(ctx, [_board_json(ctx, b) for b in found]))


def board(ctx: Ctx) -> Response:
    return json_response(_board_json(ctx, _board(ctx)))


def board_sprints(ctx: Ctx) -> Response:
    found = _board(ctx)
    if found.type == "kanban":  # reference §5a (unverified text)
        raise ApiError(400, ["The board does not support sprints"])
    states = set(split_param(ctx.query.getlist("state")))
    unknown = sorted(states - SPRINT_STATES)
    if unknown:
        message = f"The sprint state '{unknown[0]}' is not valid. Valid values: future, active, closed."
        raise ApiError(400, [message])
    sprints = [
        s for s in ctx.world.sprints.values() if s.board_id == found.id and (not states or s.state in states)
    ]
    sprints.sort(key=lambda s: (_STATE_ORDER.get(s.state, len(_STATE_ORDER)), s.id))
    return json_response(_page(ctx, [_sprint_json(ctx, s) for s in sprints], with_total=False))


def sprint(ctx: Ctx) -> Response:
    return json_response(_sprint_json(ctx, _sprint(ctx)))


def _issues(ctx: Ctx, scope: str) -> Response:
    jql = ctx.query.get("jql")
    text = f"{scope} AND ({jql})" if jql else scope
    try:
        query: CompiledQuery = ctx.world.compile(f"{text} ORDER BY rank ASC")
    except JqlError as error:
        raise ApiError(400, [error.message]) from None
    page = ctx.world.search(query, fingerprint=f"agile:{text}", after=None, limit=10**9)
    start_at = ctx.int_param("startAt", 0)
    limit = ctx.int_param("maxResults", PAGE_MAX, maximum=PAGE_MAX) or PAGE_MAX
    window: list[Issue] = page.issues[start_at : start_at + limit]
    fields = select_fields(ctx.query.getlist("fields") or None, default="*navigable")
    expand = set(split_param(ctx.query.getlist("expand")))
    return json_response(
        {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": limit,
            "total": len(page.issues),
            "issues": [ctx.renderer.issue(i, fields=fields, expand=expand) for i in window],
        }
    )


def board_issues(ctx: Ctx) -> Response:
    found = _board(ctx)
    return _issues(ctx, f"project = {found.project_id}")


def sprint_issues(ctx: Ctx) -> Response:
    found = _sprint(ctx)
    return _issues(ctx, f"sprint = {found.id}")


def agile_routes(world: JiraWorld) -> list[BaseRoute]:
    v = "2"  # the agile API represents text fields as v2 does (plain strings)
    return [
        jira_endpoint(world, f"{AGILE}/board", ["GET"], boards, version=v),
        jira_endpoint(world, f"{AGILE}/board/{{boardId}}", ["GET"], board, version=v),
        jira_endpoint(world, f"{AGILE}/board/{{boardId}}/sprint", ["GET"], board_sprints, version=v),
        jira_endpoint(world, f"{AGILE}/board/{{boardId}}/issue", ["GET"], board_issues, version=v),
        jira_endpoint(world, f"{AGILE}/sprint/{{sprintId}}", ["GET"], sprint, version=v),
        jira_endpoint(world, f"{AGILE}/sprint/{{sprintId}}/issue", ["GET"], sprint_issues, version=v),
    ]
