"""The agile API's board and sprint representations, shared by its routes and the sprint webhooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.jira.model import Board, Sprint
from sandbox.jira.timefmt import format_offset

if TYPE_CHECKING:
    from sandbox.jira.state import JiraWorld

AGILE = "/rest/agile/1.0"


def board_json(world: JiraWorld, base: str, board: Board) -> dict[str, Any]:
    project = world.projects[board.project_id]
    return {
        "id": board.id,
        "self": f"{base}{AGILE}/board/{board.id}",
        "name": board.name,
        "type": board.type,
        "location": {
            "projectId": project.id,
            "displayName": f"{project.name} ({project.key})",
            "projectName": project.name,
            "projectKey": project.key,
            "projectTypeKey": "software",
            "name": f"{project.name} ({project.key})",
        },
    }


def sprint_json(world: JiraWorld, base: str, sprint: Sprint) -> dict[str, Any]:
    """The agile API's sprint (reference §5a): dates with the site's offset (the Sprint custom field
    has UTC `Z`), `completeDate` only once closed, `originBoardId` (the field says `boardId`)."""
    tz = world.tz
    body: dict[str, Any] = {
        "id": sprint.id,
        "self": f"{base}{AGILE}/sprint/{sprint.id}",
        "state": sprint.state,
        "name": sprint.name,
    }
    if sprint.start_ms is not None:
        body["startDate"] = format_offset(sprint.start_ms, tz)
    if sprint.end_ms is not None:
        body["endDate"] = format_offset(sprint.end_ms, tz)
    if sprint.state == "closed" and sprint.complete_ms is not None:
        body["completeDate"] = format_offset(sprint.complete_ms, tz)
    body["originBoardId"] = sprint.board_id
    body["goal"] = sprint.goal
    return body
