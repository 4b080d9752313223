"""The site's plan as users change it: projects, versions, boards and sprints created and moved.

Each change is stamped with the sandbox clock and sends the webhook Jira sends (`PLAN_EVENTS`); a
change of an issue's sprints goes through `update_issue`, so it lands in the issue's changelog as a
change of the Sprint field. Moving a version's dates changes no issue, so no changelog records it.
Callers validate first: these methods assume names, ids and states are already known to be good.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from sandbox.jira.agile_json import board_json, sprint_json
from sandbox.jira.changes import IssueChanges
from sandbox.jira.model import Board, History, Issue, Project, Sprint, Version

if TYPE_CHECKING:
    from sandbox.jira.state import JiraWorld


@dataclass(frozen=True, slots=True)
class VersionChanges:
    """What a version update sets; None leaves a field as it is (`clear_*` empties a date)."""

    name: str | None = None
    description: str | None = None
    start_date: str | None = None
    release_date: str | None = None
    clear_start_date: bool = False
    clear_release_date: bool = False
    released: bool | None = None
    archived: bool | None = None


@dataclass(frozen=True, slots=True)
class SprintChanges:
    """What a sprint update sets; None leaves a field as it is (`clear_*` empties a date)."""

    name: str | None = None
    goal: str | None = None
    state: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    clear_start: bool = False
    clear_end: bool = False


class PlanningWrites:
    """Methods of `JiraWorld` that change its plan: mixed in, so `self` is always the world."""

    def _version_payload(self, version: Version) -> dict[str, Any]:
        return {"version": cast("JiraWorld", self).webhooks.renderer().version_json(version)}

    def _sprint_payload(self, sprint: Sprint) -> dict[str, Any]:
        world = cast("JiraWorld", self)
        return {"sprint": sprint_json(world, world.site_url, sprint)}

    def create_project(self, key: str, name: str, *, lead_id: str, description: str = "") -> Project:
        world = cast("JiraWorld", self)
        project = world.add_project(key, name, lead_id=lead_id)
        project.description = description
        renderer = world.webhooks.renderer()
        world.webhooks.site_event(
            "project_created",
            {
                "project": {
                    **renderer.project(project.id),
                    "projectLead": renderer.user(lead_id),
                    "assigneeType": "admin.assignee.type.unassigned",
                }
            },
        )
        return project

    def create_version(
        self,
        project_id: int,
        name: str,
        *,
        description: str = "",
        start_date: str | None = None,
        release_date: str | None = None,
        released: bool = False,
    ) -> Version:
        world = cast("JiraWorld", self)
        version = world.add_version(
            project_id,
            name,
            description=description,
            start_date=start_date,
            release_date=release_date,
            released=released,
        )
        world.webhooks.site_event("jira:version_created", self._version_payload(version))
        return version

    def update_version(self, version: Version, changes: VersionChanges) -> Version:
        """Apply `changes`: jira:version_updated when a field other than `released` changed, then
        jira:version_released or jira:version_unreleased when that flipped."""
        world = cast("JiraWorld", self)
        before = replace(version)
        if changes.name is not None:
            version.name = changes.name
        if changes.description is not None:
            version.description = changes.description
        if changes.clear_start_date or changes.start_date is not None:
            version.start_date = changes.start_date
        if changes.clear_release_date or changes.release_date is not None:
            version.release_date = changes.release_date
        if changes.archived is not None:
            version.archived = changes.archived
        if changes.released is not None:
            version.released = changes.released
        if replace(before, released=version.released) != version:
            world.webhooks.site_event("jira:version_updated", self._version_payload(version))
        if before.released != version.released:
            event = "jira:version_released" if version.released else "jira:version_unreleased"
            world.webhooks.site_event(event, self._version_payload(version))
        return version

    def create_board(self, project_id: int, name: str, *, board_type: str = "scrum") -> Board:
        world = cast("JiraWorld", self)
        board = world.add_board(project_id, name)
        board.type = board_type
        world.webhooks.site_event("board_created", {"board": board_json(world, world.site_url, board)})
        return board

    def create_sprint(
        self,
        board_id: int,
        name: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        goal: str = "",
    ) -> Sprint:
        world = cast("JiraWorld", self)
        sprint = world.add_sprint(board_id, name, "future", start_ms=start_ms, end_ms=end_ms, goal=goal)
        world.webhooks.site_event("sprint_created", self._sprint_payload(sprint))
        return sprint

    def update_sprint(self, sprint: Sprint, changes: SprintChanges) -> Sprint:
        """Apply `changes`. Starting (future → active) sends sprint_started, closing (active →
        closed) stamps `completeDate` with now and sends sprint_closed; any other change sends
        sprint_updated with the sprint as it was in `oldValue` (reference §7.2 names the events;
        the payload's shape is unverified)."""
        world = cast("JiraWorld", self)
        old = self._sprint_payload(sprint)["sprint"]
        before = replace(sprint)
        if changes.name is not None:
            sprint.name = changes.name
        if changes.goal is not None:
            sprint.goal = changes.goal
        if changes.clear_start or changes.start_ms is not None:
            sprint.start_ms = changes.start_ms
        if changes.clear_end or changes.end_ms is not None:
            sprint.end_ms = changes.end_ms
        if changes.state is not None and changes.state != sprint.state:
            sprint.state = changes.state
            if sprint.state == "closed":
                sprint.complete_ms = world.now_ms()
        if before.state != sprint.state:
            event = "sprint_started" if sprint.state == "active" else "sprint_closed"
            world.webhooks.site_event(event, self._sprint_payload(sprint))
        elif before != sprint:
            world.webhooks.site_event("sprint_updated", {**self._sprint_payload(sprint), "oldValue": old})
        return sprint

    def move_issues_to_sprint(
        self, sprint: Sprint, issues: Iterable[Issue], *, actor_id: str | None = None
    ) -> list[History]:
        """Put each issue in `sprint`. The issue leaves its open (future or active) sprint and keeps
        its closed ones, as Jira does: work carried over from sprint 11 reads "11" -> "11, 12"."""
        world = cast("JiraWorld", self)
        histories: list[History] = []
        for issue in issues:
            kept = [s for s in issue.sprint_ids if world.sprints[s].state == "closed" and s != sprint.id]
            history = world.update_issue(
                issue, IssueChanges(sprint_ids=(*kept, sprint.id)), actor_id=actor_id
            )
            if history is not None:
                histories.append(history)
        return histories
