"""Writes of Jira Software's agile API: boards and sprints created, sprints started, edited and
closed, issues moved into a sprint. Bad input is a 400 in Jira's error shape, checked whole before
anything changes.

Sprint states follow the agile description's notes on updateSprint: a sprint starts (future →
active) only with both dates, closes (active → closed) only from active, which stamps
`completeDate` with now (the field itself cannot be set), and no other state change is allowed; a
closed sprint takes no change of state or dates, nor new issues. A POST updates the fields it names,
a PUT sets every field (absent ones are cleared). Boards are bound to a project through `location`:
the sandbox has no saved filters, so `filterId` is optional here. Error texts: unverified.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.jira.agile_json import AGILE, board_json, sprint_json
from sandbox.jira.http import ApiError, Ctx, jira_endpoint, json_response
from sandbox.jira.model import Issue, Sprint
from sandbox.jira.planning import SprintChanges
from sandbox.jira.state import JiraWorld
from sandbox.jira.timefmt import to_ms

BOARD_TYPES = ("scrum", "kanban")
MOVE_MAX = 50  # "The maximum number of issues that can be moved in one operation is 50."
_SPRINT_KEYS = frozenset(
    {
        "id",
        "self",
        "state",
        "name",
        "startDate",
        "endDate",
        "completeDate",
        "createdDate",
        "originBoardId",
        "goal",
    }
)
_NEXT_STATES = {"future": {"future", "active"}, "active": {"active", "closed"}, "closed": {"closed"}}


def create_board(ctx: Ctx) -> Response:
    data = ctx.json_object()
    errors: dict[str, str] = {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "The board name is required."
    board_type = data.get("type")
    if board_type not in BOARD_TYPES:
        errors["type"] = f"The board type must be one of {', '.join(BOARD_TYPES)}."
    location = data.get("location")
    project = None
    if not isinstance(location, dict) or location.get("type", "project") != "project":
        errors["location"] = "The board needs a project location."
    else:
        project = ctx.world.find_project(str(location.get("projectKeyOrId", "")))
        if project is None:
            errors["location"] = f"No project could be found with key '{location.get('projectKeyOrId')}'."
    if errors:
        raise ApiError(400, [], errors)
    assert project is not None and isinstance(name, str) and isinstance(board_type, str)
    board = ctx.world.create_board(project.id, name.strip(), board_type=board_type)
    return json_response(board_json(ctx.world, ctx.renderer.base, board), 201)


def _instant(ctx: Ctx, data: dict[str, Any], name: str, errors: dict[str, str]) -> int | None:
    """An ISO 8601 date-time; without an offset it is the site's local time."""
    value = data.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        errors[name] = f"The {name} '{value}' is not a valid date-time."
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ctx.world.tz)
    return to_ms(moment)


def _check_dates(start: int | None, end: int | None, errors: dict[str, str]) -> None:
    if start is not None and end is not None and end < start:
        errors["endDate"] = "The sprint end date must be after the start date."


def create_sprint(ctx: Ctx) -> Response:
    data = ctx.json_object()
    errors: dict[str, str] = {}
    unknown = sorted(set(data) - {"name", "startDate", "endDate", "originBoardId", "goal"})
    if unknown:
        raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "The sprint name is required."
    board_id = data.get("originBoardId")
    if not isinstance(board_id, int) or isinstance(board_id, bool):
        errors["originBoardId"] = "The sprint needs the id of its board."
    goal = data.get("goal", "")
    if not isinstance(goal, str):
        errors["goal"] = "The sprint goal must be text."
    start, end = _instant(ctx, data, "startDate", errors), _instant(ctx, data, "endDate", errors)
    _check_dates(start, end, errors)
    if errors:
        raise ApiError(400, [], errors)
    assert isinstance(board_id, int) and isinstance(name, str) and isinstance(goal, str)
    board = ctx.world.boards.get(board_id)
    if board is None:
        raise ApiError(404, ["Board does not exist or you do not have permission to see it."])
    if board.type != "scrum":
        raise ApiError(400, ["The board does not support sprints"])
    sprint = ctx.world.create_sprint(board.id, name.strip(), start_ms=start, end_ms=end, goal=goal)
    return json_response(sprint_json(ctx.world, ctx.renderer.base, sprint), 201)


def _sprint(ctx: Ctx) -> Sprint:
    raw = ctx.path("sprintId")
    sprint = ctx.world.sprints.get(int(raw)) if raw.isdigit() else None
    if sprint is None:
        raise ApiError(404, [f"Sprint with id {raw} does not exist or you do not have permission to see it."])
    return sprint


def _sprint_changes(ctx: Ctx, sprint: Sprint, data: dict[str, Any], *, full: bool) -> SprintChanges:
    unknown = sorted(set(data) - _SPRINT_KEYS)
    if unknown:
        raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
    errors: dict[str, str] = {}
    name = data.get("name")
    if (full or "name" in data) and (not isinstance(name, str) or not name.strip()):
        errors["name"] = "The sprint name is required."
    goal = data.get("goal", "" if full else None)
    if goal is not None and not isinstance(goal, str):
        errors["goal"] = "The sprint goal must be text."
    state = data.get("state", sprint.state)
    if state not in _NEXT_STATES:
        errors["state"] = f"The sprint state '{state}' is not valid. Valid values: future, active, closed."
    start = _instant(ctx, data, "startDate", errors)
    end = _instant(ctx, data, "endDate", errors)
    clear_start = ("startDate" in data and data["startDate"] is None) or (full and "startDate" not in data)
    clear_end = ("endDate" in data and data["endDate"] is None) or (full and "endDate" not in data)
    final_start = None if clear_start else (start if start is not None else sprint.start_ms)
    final_end = None if clear_end else (end if end is not None else sprint.end_ms)
    _check_dates(final_start, final_end, errors)
    if errors:
        raise ApiError(400, [], errors)
    assert isinstance(state, str)
    if state not in _NEXT_STATES[sprint.state]:
        raise ApiError(400, [f"A sprint cannot move from {sprint.state} to {state}."])
    if sprint.state == "closed" and (final_start != sprint.start_ms or final_end != sprint.end_ms):
        raise ApiError(400, ["The dates of a closed sprint cannot be changed."])
    if state != "future" and (final_start is None or final_end is None):
        raise ApiError(400, ["A sprint must have a start date and an end date to be started."])
    return SprintChanges(
        name=name.strip() if isinstance(name, str) else None,
        goal=goal,
        state=state,
        start_ms=start,
        end_ms=end,
        clear_start=clear_start,
        clear_end=clear_end,
    )


def update_sprint_partially(ctx: Ctx) -> Response:
    sprint = _sprint(ctx)
    ctx.world.update_sprint(sprint, _sprint_changes(ctx, sprint, ctx.json_object(), full=False))
    return json_response(sprint_json(ctx.world, ctx.renderer.base, sprint))


def update_sprint(ctx: Ctx) -> Response:
    sprint = _sprint(ctx)
    ctx.world.update_sprint(sprint, _sprint_changes(ctx, sprint, ctx.json_object(), full=True))
    return json_response(sprint_json(ctx.world, ctx.renderer.base, sprint))


def move_issues(ctx: Ctx) -> Response:
    """Every issue is found before any moves, so a bad key moves none. Ranking is not modelled."""
    sprint = _sprint(ctx)
    data = ctx.json_object()
    refs = data.get("issues")
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str | int) for r in refs):
        raise ApiError(400, [], {"issues": "The issues to move must be a list of issue keys or ids."})
    if len(refs) > MOVE_MAX:
        raise ApiError(400, [f"At most {MOVE_MAX} issues can be moved in one operation."])
    if sprint.state == "closed":
        raise ApiError(400, ["Issues cannot be moved to a closed sprint."])
    issues: list[Issue] = []
    for ref in refs:
        issue = ctx.world.find_issue(str(ref))
        if issue is None:
            raise ApiError(400, [f"Issue {ref} does not exist or you do not have permission to see it."])
        issues.append(issue)
    for issue in issues:
        ctx.check_issue_write(issue)
    ctx.world.move_issues_to_sprint(sprint, issues, actor_id=ctx.caller.account_id)
    return Response(status_code=204)


def agile_write_routes(world: JiraWorld) -> list[BaseRoute]:
    v = "2"
    return [
        jira_endpoint(world, f"{AGILE}/board", ["POST"], create_board, version=v),
        jira_endpoint(world, f"{AGILE}/sprint", ["POST"], create_sprint, version=v),
        jira_endpoint(world, f"{AGILE}/sprint/{{sprintId}}", ["POST"], update_sprint_partially, version=v),
        jira_endpoint(world, f"{AGILE}/sprint/{{sprintId}}", ["PUT"], update_sprint, version=v),
        jira_endpoint(world, f"{AGILE}/sprint/{{sprintId}}/issue", ["POST"], move_issues, version=v),
    ]
