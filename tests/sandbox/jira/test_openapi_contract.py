"""The sandbox's Jira against Atlassian's published OpenAPI descriptions of Jira Cloud.

Every route the sandbox's app serves for Jira is enumerated from the app itself (a route belongs to the
sandbox package its endpoint comes from; the control API and Trello are the app's `OTHER_SURFACES`, and
nothing else may appear). Each Jira route must be an operation of a published description
(`/rest/api/2` and `/rest/api/latest` routes answer for the v3 operation of the same path: Atlassian
publishes both versions as one collection of operations) or be on `EXTRAS`, with the reason. Each must
have `CASES`: requests this test sends, checking that the route under test served them, with the status
the case expects; that the description documents that status (or `RETIRED` says why not); and that the
JSON body validates against the operation's response schema, `$ref`s resolved, datetimes in Jira's
format. An error body the operation gives no schema for must be Jira's `ErrorCollection`. `ERRATA`
lists where real Jira contradicts a description. A new route fails here until it has cases.

What a description cannot check (field sets, caps, ordering, …) is listed in docs/ARCHITECTURE.md
("How faithful the sandbox is").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.jira.adf import text_to_adf
from sandbox.jira.model import Comment, Issue
from sandbox.scenarios import build_sandbox
from tests.sandbox.conftest import FROZEN_NOW, Bearer
from tests.sandbox.jira.published import PLATFORM, Erratum, Operation, Published

# Where real Jira contradicts the descriptions.
ERRATA = (
    Erratum(
        shape=frozenset({"field", "fieldtype", "from", "fromString", "to", "toString"}),
        nullable=("from", "fromString", "to", "toString"),
        why="a changelog item's from/to are null when a field is first set or cleared (reference §4, "
        "real webhook captures, and the platform description's own examples); its schemas type them as "
        "plain strings",
    ),
)
# Served routes no published description holds, on purpose.
EXTRAS: dict[str, str] = {
    "/rest/webhooks/1.0/webhook": "Jira's admin webhook API (reference §7.1): real on Cloud and Data "
    "Center, documented in Atlassian's webhook guide, not in the platform description.",
    "/rest/webhooks/1.0/webhook/{webhookId}": "The same admin webhook API, one registration.",
}
# The app's other surfaces, deliberately not Jira: each route of the app must belong to one of these or
# to the sandbox's Jira (a route's surface is the sandbox package its endpoint comes from).
OTHER_SURFACES = {
    "control": "the sandbox's control API under /_sandbox (docs/ARCHITECTURE.md): drives the fake, not Jira",
    "trello": "Trello's API, held to the Trello reference by tests/sandbox/trello",
}
# Statuses Jira answers that the description of the operation does not list.
RETIRED: dict[tuple[str, str], tuple[int, str]] = {
    ("GET", "/rest/api/3/search"): (410, "removed from Cloud (CHANGE-2046, reference §2)"),
    ("POST", "/rest/api/3/search"): (410, "removed from Cloud (CHANGE-2046, reference §2)"),
}
_VERSION = re.compile(r"^/rest/api/(2|3|latest)/")
_PUBLISHED = Published(ERRATA)
_ERRORS = _PUBLISHED.compile(PLATFORM, {"$ref": "#/components/schemas/ErrorCollection"})


def _sandbox(*, with_trello: bool = False) -> Sandbox:
    return build_sandbox("tiny", 7, now=FROZEN_NOW, sink=CollectingSink(), with_trello=with_trello)


def _app_routes(sandbox: Sandbox) -> list[BaseRoute]:
    return list(create_sandbox_app(sandbox).routes)


def _surface(route: BaseRoute) -> str:
    if isinstance(route, Mount):
        return "control" if route.path == "/_sandbox" else f"mount {route.path}"
    module = getattr(getattr(route, "endpoint", None), "__module__", None) or type(route).__module__
    return module.split(".")[1] if module.startswith("sandbox.") else module


def _jira_routes(routes: list[BaseRoute]) -> list[tuple[str, str]]:
    """(method, template) of every route the app serves for Jira."""
    served = []
    for route in routes:
        if _surface(route) == "jira":
            assert isinstance(route, Route), route
            served += [(method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return served


SERVED = _jira_routes(_app_routes(_sandbox()))


# -- the cases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request: `path` is relative to the route's API root (`/rest/api/{segment}` for the platform)."""

    path: str
    status: int
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    content: bytes | None = None
    caller: str = "cloud"  # cloud (API token) | app (OAuth 2.0) | dc (personal access token) | anonymous


class Site:
    """What cases need from the seeded site, made through the world as a user would make it."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.jira
        issues = self.world.issues.values()
        self.issue: Issue = max(issues, key=lambda i: (bool(i.worklogs), len(i.comments), len(i.histories)))
        self.world.set_issue_property(self.issue, "pmbridge.sync", {"syncedActions": [1]})
        board = min(self.world.boards.values(), key=lambda b: b.id)
        self.board = board.id
        self.sprint = min(s.id for s in self.world.sprints.values() if s.board_id == board.id)
        # A kanban board (it has no sprints) and an empty future sprint of the first board.
        self.kanban = self.world.add_board(board.project_id, "Kanban")
        self.kanban.type = "kanban"
        self.world.add_sprint(board.id, "Next", "future", goal="Ship the checkout")
        self.project = self.world.projects[self.issue.project_id].key
        self.account = self.world.current_account_id
        self.jql = f"project = {self.project}"
        self._keys = itertools.count(1)
        # One registration of each kind that no case removes, so the lists have something to show.
        self.app_webhook()
        self.admin_webhook()

    def property_key(self) -> str:
        """A property key no issue or comment holds yet."""
        return f"pmbridge.p{next(self._keys)}"

    def issue_property(self) -> str:
        key = self.property_key()
        self.world.set_issue_property(self.issue, key, {"syncedActions": [1, 2]})
        return key

    def app_webhook(self) -> int:
        return self.world.webhooks.register_dynamic(
            url="https://app.example/hook",
            events=("jira:issue_updated",),
            jql=self.jql,
            field_ids=("duedate",),
        ).id

    def admin_webhook(self) -> int:
        return self.world.webhooks.register(
            url="https://agency.example/hook", events=("jira:issue_updated",), jql=self.jql, name="sync"
        ).id

    def comment(self) -> Comment:
        comment = self.world.add_comment(
            self.issue,
            text_to_adf("Waiting on the client"),
            visibility={"type": "role", "value": "Developers"},
            properties={"pmbridge.flag": {"flagId": 7}},
        )
        return comment

    def deleted_worklog(self) -> int:
        """Log work and delete it, past the minute the feeds leave out; returns a `since` before it."""
        since = self.world.now_ms()
        self.sandbox.clock.advance(timedelta(seconds=1))
        self.world.delete_worklog(self.world.add_worklog(self.issue, seconds=600, started_ms=since))
        self.sandbox.clock.advance(timedelta(minutes=2))
        return since

    def new_issue(self) -> Issue:
        return self.world.create_issue(self.world.projects[self.issue.project_id], summary="Scratch")

    def project_key(self) -> str:
        """A project key no project holds yet."""
        return f"NP{next(self._keys)}"

    def version_name(self) -> str:
        return f"Release {next(self._keys)}"

    def version(self) -> int:
        project_id = self.issue.project_id
        return self.world.create_version(project_id, self.version_name(), release_date="2026-05-01").id

    def sprint_on_board(self) -> int:
        """A future sprint of the first board, with both dates, ready to start."""
        start = self.world.now_ms()
        return self.world.create_sprint(self.board, "Planned", start_ms=start, end_ms=start + 86_400_000).id

    def closed_sprint(self) -> int:
        return next(s.id for s in self.world.sprints.values() if s.state == "closed")

    def text(self, segment: str) -> Any:
        """A rich-text body as the version takes it: ADF on v3, a string on v2 and latest."""
        return text_to_adf("Slipping") if segment == "3" else "Slipping"


Cases = Callable[[Site, str], list[Call]]
ALL_FIELDS_EXPANDED = {
    "fields": "*all",
    "expand": "renderedFields,names,schema,transitions,changelog",
    "properties": "pmbridge.sync",
}


def _search(site: Site, segment: str) -> list[Call]:
    if segment == "3":
        return [Call("search", 410, {"jql": site.jql}), Call("search", 410, {"jql": site.jql}, caller="dc")]
    return [
        Call("search", 410, {"jql": site.jql}),
        Call("search", 200, {"jql": site.jql, "maxResults": 3, **ALL_FIELDS_EXPANDED}, caller="dc"),
        Call("search", 200, {"jql": "", "startAt": 5, "fields": "summary"}, caller="dc"),
        Call("search", 400, {"jql": "project = "}, caller="dc"),
    ]


def _search_post(site: Site, segment: str) -> list[Call]:
    body = {"jql": site.jql, "maxResults": 2, "fields": ["summary", "status"], "expand": ["names"]}
    if segment == "3":
        return [Call("search", 410, body=body), Call("search", 410, body=body, caller="dc")]
    return [Call("search", 410, body=body), Call("search", 200, body=body, caller="dc")]


def _twice(path: str, method: str, statuses: tuple[int, int]) -> list[Call]:
    """The same request twice: a PUT creates then updates, a DELETE removes then finds nothing."""
    return [Call(path, status, body={"n": status} if method == "PUT" else None) for status in statuses]


def _comment_path(site: Site) -> str:
    comment = site.comment()
    return f"issue/{site.issue.key}/comment/{comment.id}"


def _comment_properties(site: Site) -> str:
    return f"comment/{site.comment().id}/properties"


CASES: dict[str, Cases] = {
    # site metadata
    "GET /serverInfo": lambda s, v: [
        Call("serverInfo", 200, caller="anonymous"),
        Call("serverInfo", 200),
        Call("serverInfo", 200, caller="dc"),
    ],
    "GET /myself": lambda s, v: [Call("myself", 200), Call("myself", 401, caller="anonymous")],
    "GET /field": lambda s, v: [Call("field", 200)],
    "GET /status": lambda s, v: [Call("status", 200)],
    "GET /statuscategory": lambda s, v: [Call("statuscategory", 200)],
    "GET /user": lambda s, v: [
        Call("user", 200, {"accountId": s.account}),
        Call("user", 404, {"accountId": "nobody"}),
    ],
    "GET /project": lambda s, v: [Call("project", 200)],
    "GET /project/search": lambda s, v: [
        Call("project/search", 200, {"maxResults": 1}),
        Call("project/search", 200, {"query": s.project.lower(), "orderBy": "-name"}),
        Call("project/search", 404, {"keys": "NOPE"}),
    ],
    "GET /project/{projectIdOrKey}": lambda s, v: [
        Call(f"project/{s.project}", 200),
        Call("project/NOPE", 404),
    ],
    "GET /project/{projectIdOrKey}/versions": lambda s, v: [
        Call(f"project/{s.project}/versions", 200),
        Call("project/NOPE/versions", 404),
    ],
    "GET /project/{projectIdOrKey}/version": lambda s, v: [
        Call(f"project/{s.project}/version", 200, {"maxResults": 1, "orderBy": "releaseDate"}),
        Call(f"project/{s.project}/version", 200, {"status": "released,unreleased"}),
        Call("project/NOPE/version", 404),
    ],
    "POST /project": lambda s, v: [
        Call(
            "project",
            201,
            body={"key": s.project_key(), "name": f"Project {s.project_key()}", "leadAccountId": s.account},
        ),
        Call("project", 400, body={"key": "lower", "name": "Lower", "leadAccountId": s.account}),
        Call("project", 400, body={"key": s.project, "name": "Taken", "leadAccountId": s.account}),
    ],
    "POST /version": lambda s, v: [
        Call(
            "version",
            201,
            body={
                "name": s.version_name(),
                "projectId": s.issue.project_id,
                "startDate": "2026-03-01",
                "releaseDate": "2026-04-30",
            },
        ),
        Call("version", 400, body={"name": "Bad", "projectId": s.issue.project_id, "releaseDate": "30/4/26"}),
        Call("version", 404, body={"name": "Nowhere", "projectId": 1}),
    ],
    "GET /version/{id}": lambda s, v: [Call(f"version/{s.version()}", 200), Call("version/1", 404)],
    "PUT /version/{id}": lambda s, v: [
        Call(f"version/{s.version()}", 200, body={"releaseDate": "2026-06-01", "released": True}),
        Call(f"version/{s.version()}", 400, body={"startDate": "2026-07-01"}),
        Call("version/1", 404, body={"releaseDate": "2026-06-01"}),
    ],
    "GET /user/search": lambda s, v: [
        Call("user/search", 200, {"query": "sandbox"}),
        Call("user/search", 400),
    ],
    "GET /user/assignable/search": lambda s, v: [
        Call("user/assignable/search", 200, {"project": s.project, "maxResults": 2}),
        Call("user/assignable/search", 200, {"issueKey": s.issue.key, "query": "sandbox"}),
        Call("user/assignable/search", 400),
        Call("user/assignable/search", 404, {"project": "NOPE"}),
    ],
    # search
    "GET /search/jql": lambda s, v: [
        Call("search/jql", 200, {"jql": s.jql}),
        Call("search/jql", 200, {"jql": f"{s.jql} ORDER BY key", "maxResults": 2, **ALL_FIELDS_EXPANDED}),
        Call("search/jql", 400, {"jql": "order by key desc"}),
        Call("search/jql", 400, {"jql": s.jql, "nextPageToken": "not-a-token"}),
    ],
    "POST /search/jql": lambda s, v: [
        Call(
            "search/jql",
            200,
            body={"jql": s.jql, "maxResults": 3, "fields": ["*navigable"], "expand": "changelog,names"},
        ),
        Call("search/jql", 200, body={"jql": s.jql, "reconcileIssues": [s.issue.id], "fields": ["id"]}),
        Call("search/jql", 400, body={"jql": s.jql, "startAt": 5}),
    ],
    "POST /search/approximate-count": lambda s, v: [
        Call("search/approximate-count", 200, body={"jql": s.jql}),
        Call("search/approximate-count", 400, body={"jql": ""}),
    ],
    "GET /search": _search,
    "POST /search": _search_post,
    # issues, changelogs, properties, worklogs
    "GET /issue/{issueIdOrKey}": lambda s, v: [
        Call(f"issue/{s.issue.key}", 200),
        Call(f"issue/{s.issue.id}", 200, ALL_FIELDS_EXPANDED),
        Call(f"issue/{s.issue.key}", 200, {"fields": "summary,-comment", "expand": "names"}),
        Call("issue/NOPE-1", 404),
    ],
    "DELETE /issue/{issueIdOrKey}": lambda s, v: [
        Call(f"issue/{s.new_issue().key}", 204),
        Call("issue/NOPE-1", 404),
    ],
    "GET /issue/{issueIdOrKey}/changelog": lambda s, v: [
        Call(f"issue/{s.issue.key}/changelog", 200),
        Call(f"issue/{s.issue.key}/changelog", 200, {"startAt": 1, "maxResults": 1}),
        Call("issue/NOPE-1/changelog", 404),
    ],
    "POST /issue/{issueIdOrKey}/changelog/list": lambda s, v: [
        Call(
            f"issue/{s.issue.key}/changelog/list",
            200,
            body={"changelogIds": [h.id for h in s.issue.histories[:2]]},
        ),
        Call(f"issue/{s.issue.key}/changelog/list", 400, body={"changelogIds": []}),
    ],
    "POST /changelog/bulkfetch": lambda s, v: [
        Call("changelog/bulkfetch", 200, body={"issueIdsOrKeys": [s.issue.key], "maxResults": 1}),
        Call("changelog/bulkfetch", 200, body={"issueIdsOrKeys": [s.issue.id], "fieldIds": ["status"]}),
        Call("changelog/bulkfetch", 400, body={"issueIdsOrKeys": []}),
    ],
    "GET /issue/{issueIdOrKey}/properties": lambda s, v: [
        Call(f"issue/{s.issue.key}/properties", 200),
        Call("issue/NOPE-1/properties", 404),
    ],
    "GET /issue/{issueIdOrKey}/properties/{propertyKey}": lambda s, v: [
        Call(f"issue/{s.issue.key}/properties/{s.issue_property()}", 200),
        Call(f"issue/{s.issue.key}/properties/missing", 404),
    ],
    "PUT /issue/{issueIdOrKey}/properties/{propertyKey}": lambda s, v: [
        *_twice(f"issue/{s.issue.key}/properties/{s.property_key()}", "PUT", (201, 200)),
        Call(f"issue/{s.issue.key}/properties/{s.property_key()}", 400, content=b"{broken"),
        Call("issue/NOPE-1/properties/pmbridge.new", 404, body={"n": 1}),
    ],
    "DELETE /issue/{issueIdOrKey}/properties/{propertyKey}": lambda s, v: _twice(
        f"issue/{s.issue.key}/properties/{s.issue_property()}", "DELETE", (204, 404)
    ),
    "GET /issue/{issueIdOrKey}/worklog": lambda s, v: [
        Call(f"issue/{s.issue.key}/worklog", 200),
        Call("issue/NOPE-1/worklog", 404),
    ],
    "GET /worklog/updated": lambda s, v: [Call("worklog/updated", 200, {"since": 0})],
    "GET /worklog/deleted": lambda s, v: [Call("worklog/deleted", 200, {"since": s.deleted_worklog()})],
    "POST /worklog/list": lambda s, v: [
        Call("worklog/list", 200, body={"ids": [w.id for w in s.issue.worklogs]}),
        Call("worklog/list", 400, body={"ids": "all"}),
        Call("worklog/list", 400, body={"ids": []}),
    ],
    # comments and their properties
    "GET /issue/{issueIdOrKey}/comment": lambda s, v: [
        Call(f"issue/{s.issue.key}/comment", 200, {"expand": "renderedBody,properties"}),
        Call(f"issue/{s.issue.key}/comment", 200, {"orderBy": "-created", "maxResults": 1}),
        Call("issue/NOPE-1/comment", 404),
    ],
    "POST /issue/{issueIdOrKey}/comment": lambda s, v: [
        Call(
            f"issue/{s.issue.key}/comment",
            201,
            body={
                "body": s.text(v),
                "visibility": {"type": "role", "value": "Developers"},
                "properties": [{"key": "pmbridge.flag", "value": {"flagId": 9}}],
            },
        ),
        Call(f"issue/{s.issue.key}/comment", 400, body={"body": ""}),
        Call("issue/NOPE-1/comment", 404, body={"body": s.text(v)}),
    ],
    "GET /issue/{issueIdOrKey}/comment/{id}": lambda s, v: [
        Call(_comment_path(s), 200, {"expand": "renderedBody,properties"}),
        Call(f"issue/{s.issue.key}/comment/1", 404),
    ],
    "PUT /issue/{issueIdOrKey}/comment/{id}": lambda s, v: [
        Call(_comment_path(s), 200, body={"body": s.text(v)}),
        Call(_comment_path(s), 400, body={"body": ""}),
    ],
    "DELETE /issue/{issueIdOrKey}/comment/{id}": lambda s, v: [
        Call(_comment_path(s), 204),
        Call(f"issue/{s.issue.key}/comment/1", 404),
    ],
    "POST /comment/list": lambda s, v: [
        Call("comment/list", 200, {"expand": "properties"}, body={"ids": [s.comment().id, 1]}),
        Call("comment/list", 400, body={"ids": "all"}),
    ],
    "GET /comment/{id}/properties": lambda s, v: [
        Call(_comment_properties(s), 200),
        Call("comment/1/properties", 404),
    ],
    "GET /comment/{id}/properties/{propertyKey}": lambda s, v: [
        Call(f"{_comment_properties(s)}/pmbridge.flag", 200),
        Call(f"{_comment_properties(s)}/missing", 404),
    ],
    "PUT /comment/{id}/properties/{propertyKey}": lambda s, v: [
        Call(f"{_comment_properties(s)}/pmbridge.more", 201, body=[1, 2]),
        Call(f"{_comment_properties(s)}/pmbridge.flag", 200, body={"flagId": 8}),
        Call("comment/1/properties/pmbridge.more", 404, body=[1]),
    ],
    "DELETE /comment/{id}/properties/{propertyKey}": lambda s, v: [
        Call(f"{_comment_properties(s)}/pmbridge.flag", 204),
        Call(f"{_comment_properties(s)}/missing", 404),
    ],
    # dynamic (app) webhooks
    "POST /webhook": lambda s, v: [
        Call(
            "webhook",
            200,
            body={
                "url": "https://app.example/hook",
                "webhooks": [
                    {"events": ["jira:issue_updated"], "jqlFilter": s.jql, "fieldIdsFilter": ["duedate"]},
                    {"events": ["jira:issue_updated"], "jqlFilter": "watchCount = 1"},
                ],
            },
            caller="app",
        ),
        Call("webhook", 403, body={"url": "https://app.example/hook", "webhooks": []}),
        Call("webhook", 400, body={"url": "https://app.example/hook", "webhooks": []}, caller="app"),
    ],
    "GET /webhook": lambda s, v: [
        Call("webhook", 200, {"maxResults": 1}, caller="app"),
        Call("webhook", 403),
    ],
    "DELETE /webhook": lambda s, v: [
        Call("webhook", 202, body={"webhookIds": [s.app_webhook()]}, caller="app"),
        Call("webhook", 400, body={"webhookIds": "all"}, caller="app"),
    ],
    "PUT /webhook/refresh": lambda s, v: [
        Call("webhook/refresh", 200, body={"webhookIds": [s.app_webhook()]}, caller="app"),
        Call("webhook/refresh", 403, body={"webhookIds": []}),
    ],
    # admin webhooks (EXTRAS: statuses only)
    "POST /rest/webhooks/1.0/webhook": lambda s, v: [
        Call(
            "",
            201,
            body={"name": "sync", "url": "https://agency.example/hook", "events": ["jira:issue_updated"]},
        ),
        Call("", 400, body={"url": "ftp://agency.example", "events": ["jira:issue_updated"]}),
    ],
    "GET /rest/webhooks/1.0/webhook": lambda s, v: [Call("", 200)],
    "GET /rest/webhooks/1.0/webhook/{webhookId}": lambda s, v: [
        Call(f"/{s.admin_webhook()}", 200),
        Call("/999999", 404),
    ],
    "DELETE /rest/webhooks/1.0/webhook/{webhookId}": lambda s, v: [
        Call(f"/{s.admin_webhook()}", 204),
        Call("/999999", 404),
    ],
    # Jira Software (agile)
    "GET /rest/agile/1.0/board": lambda s, v: [
        Call("board", 200),
        Call("board", 200, {"projectKeyOrId": s.project, "type": "scrum", "maxResults": 1}),
    ],
    "GET /rest/agile/1.0/board/{boardId}": lambda s, v: [Call(f"board/{s.board}", 200), Call("board/0", 404)],
    "GET /rest/agile/1.0/board/{boardId}/sprint": lambda s, v: [
        Call(f"board/{s.board}/sprint", 200),
        Call(f"board/{s.board}/sprint", 200, {"state": "active,closed"}),
        Call(f"board/{s.board}/sprint", 200, {"state": "future", "startAt": 0, "maxResults": 1}),
        Call(f"board/{s.board}/sprint", 400, {"state": "done"}),
        Call(f"board/{s.kanban.id}/sprint", 400),
        Call("board/0/sprint", 404),
    ],
    "GET /rest/agile/1.0/board/{boardId}/issue": lambda s, v: [
        Call(f"board/{s.board}/issue", 200, {"maxResults": 2, "expand": "changelog"}),
        Call(f"board/{s.board}/issue", 400, {"jql": "status ="}),
        Call("board/0/issue", 404),
    ],
    "GET /rest/agile/1.0/sprint/{sprintId}": lambda s, v: [
        Call(f"sprint/{s.sprint}", 200),
        Call("sprint/0", 404),
    ],
    "POST /rest/agile/1.0/board": lambda s, v: [
        Call(
            "board",
            201,
            body={
                "name": "Delivery",
                "type": "scrum",
                "location": {"type": "project", "projectKeyOrId": s.project},
            },
        ),
        Call("board", 400, body={"name": "Delivery", "type": "scrum"}),
    ],
    "POST /rest/agile/1.0/sprint": lambda s, v: [
        Call(
            "sprint",
            201,
            body={
                "name": "Delivery 99",
                "originBoardId": s.board,
                "startDate": "2026-03-02T09:00:00.000+00:00",
                "endDate": "2026-03-16T09:00:00.000+00:00",
                "goal": "Ship",
            },
        ),
        Call("sprint", 400, body={"name": "No board"}),
        Call("sprint", 400, body={"name": "Kanban", "originBoardId": s.kanban.id}),
        Call("sprint", 404, body={"name": "Nowhere", "originBoardId": 999999}),
    ],
    "POST /rest/agile/1.0/sprint/{sprintId}": lambda s, v: [
        Call(f"sprint/{s.sprint_on_board()}", 200, body={"state": "active"}),
        Call(f"sprint/{s.closed_sprint()}", 400, body={"state": "active"}),
        Call("sprint/0", 404, body={"name": "Gone"}),
    ],
    "PUT /rest/agile/1.0/sprint/{sprintId}": lambda s, v: [
        Call(f"sprint/{s.sprint_on_board()}", 200, body={"name": "Renamed", "state": "future"}),
        Call(f"sprint/{s.sprint_on_board()}", 400, body={"name": "Started without dates", "state": "active"}),
        Call("sprint/0", 404, body={"name": "Gone"}),
    ],
    "POST /rest/agile/1.0/sprint/{sprintId}/issue": lambda s, v: [
        Call(f"sprint/{s.sprint_on_board()}/issue", 204, body={"issues": [s.new_issue().key]}),
        Call(f"sprint/{s.closed_sprint()}/issue", 400, body={"issues": [s.issue.key]}),
        Call(f"sprint/{s.sprint_on_board()}/issue", 400, body={"issues": ["NOPE-1"]}),
        Call("sprint/0/issue", 404, body={"issues": [s.issue.key]}),
    ],
    "GET /rest/agile/1.0/sprint/{sprintId}/issue": lambda s, v: [
        Call(f"sprint/{s.sprint}/issue", 200, {"fields": "summary,status"}),
        Call("sprint/0/issue", 404),
    ],
}


def _case_key(method: str, template: str) -> tuple[str, str]:
    """The CASES key of a served route, and the version segment of a platform route ("" otherwise)."""
    match = _VERSION.match(template)
    if match is None:
        return f"{method} {template}", ""
    return f"{method} /{template[match.end() :]}", match.group(1)


def _root(template: str, segment: str) -> str:
    if segment:
        return f"/rest/api/{segment}/"
    if template.startswith("/rest/agile/1.0/"):
        return "/rest/agile/1.0/"
    return template.split("{", 1)[0].rstrip("/")


# -- the checks ------------------------------------------------------------------------------------


def test_every_route_of_the_app_is_jira_or_another_surface() -> None:
    surfaces = {_surface(route) for route in _app_routes(_sandbox(with_trello=True))}
    assert surfaces == {"jira", *OTHER_SURFACES}
    assert all(template.startswith("/rest/") for _, template in SERVED)


def test_every_served_jira_route_is_published_or_a_documented_extra() -> None:
    unpublished = sorted(
        f"{method} {template}"
        for method, template in SERVED
        if _PUBLISHED.operation(method, template) is None and template not in EXTRAS
    )
    assert unpublished == []
    assert {template for _, template in SERVED} >= set(EXTRAS), "an extra the sandbox no longer serves"
    assert all(_PUBLISHED.operation(*key) is not None for key in RETIRED), "a retirement of no operation"


def test_every_case_belongs_to_a_served_route() -> None:
    assert set(CASES) - {_case_key(method, template)[0] for method, template in SERVED} == set()


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Site, TestClient]]:
    """One site for every route: each case makes what it changes, so cases share it. Rate limits are
    off: they answer 429 on any route (reference §8), which no description lists."""
    sandbox = _sandbox()
    sandbox.jira.limiter.config.enabled = False
    with TestClient(create_sandbox_app(sandbox), base_url="https://sandbox.test") as client:
        yield Site(sandbox), client


@pytest.mark.parametrize(("method", "template"), SERVED, ids=[f"{m} {t}" for m, t in SERVED])
def test_route_answers_as_published(method: str, template: str, site: tuple[Site, TestClient]) -> None:
    key, segment = _case_key(method, template)
    assert key in CASES, f"no contract cases for {method} {template}: add them to CASES"
    cases, client = site
    sandbox = cases.sandbox
    operation = _PUBLISHED.operation(method, template)
    route = next(r for r in _app_routes(sandbox) if isinstance(r, Route) and r.path == template)
    for call in CASES[key](cases, segment):
        path = _root(template, segment) + call.path
        assert route.path_regex.match(path), f"{path} is not served by {template}"
        before = sandbox.request_log.count(f"{method} {template}")
        response = client.request(
            method,
            path,
            params=call.params,
            content=call.content if call.content is not None else _json(call.body),
            headers={"Content-Type": "application/json"} if call.body is not None or call.content else {},
            auth=_auth(sandbox, call.caller),
        )
        assert sandbox.request_log.count(f"{method} {template}") == before + 1, f"{path} went elsewhere"
        assert response.status_code == call.status, f"{method} {path}: {response.text[:500]}"
        if operation is not None:
            _check_published(operation, response)


def _json(body: Any) -> bytes | None:
    return None if body is None else orjson.dumps(body)


def _auth(sandbox: Sandbox, caller: str) -> httpx.Auth | tuple[str, str] | None:
    if caller == "cloud":
        return (sandbox.jira_email, sandbox.jira_api_token)
    if caller == "app":
        return Bearer(sandbox.jira_oauth_token)
    if caller == "dc":
        return Bearer(sandbox.jira_pat)
    return None


def _check_published(operation: Operation, response: httpx.Response) -> None:
    status = response.status_code
    retired = RETIRED.get((operation.method, operation.path))
    if retired is not None and retired[0] == status:
        _check_error(response)
        return
    assert operation.documents(status), f"{operation.name} does not document {status}: {response.text[:300]}"
    validator = _PUBLISHED.validator(operation, status)
    if validator is not None:
        assert response.headers["content-type"].startswith("application/json")
        errors = [
            f"{error.instance_path}: {error.message}" for error in validator.iter_errors(response.json())
        ]
        assert errors == [], f"{operation.name} {status}: {errors[:10]}"
    elif status >= 400:
        _check_error(response)


def _check_error(response: httpx.Response) -> None:
    """Jira's error body, `ErrorCollection`, wherever it answers JSON (401s for bad credentials are text)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        errors = [f"{error.instance_path}: {error.message}" for error in _ERRORS.iter_errors(response.json())]
        assert errors == []
        assert response.json()["errorMessages"] or response.json()["errors"]


# -- sprints: the agile description gives them no schema, only an example ---------------------------

_OFFSET_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
_SPRINT_ROUTES = ("/rest/agile/1.0/board/{boardId}/sprint", "/rest/agile/1.0/sprint/{sprintId}")


def _example(template: str) -> Any:
    operation = _PUBLISHED.operation("GET", template)
    assert operation is not None
    assert operation.response_schema(200) is None, "the description now has a schema: the cases check it"
    return orjson.loads(operation.responses["200"]["content"]["application/json"]["example"])


def _check_sprint_like_example(sprint: dict[str, Any], example: dict[str, Any]) -> None:
    assert set(sprint) <= set(example), f"keys the example lacks: {set(sprint) - set(example)}"
    assert {"id", "self", "state", "name", "originBoardId", "goal"} <= set(sprint)
    for key, value in sprint.items():
        assert type(value) is type(example[key]), key
    assert sprint["state"] in ("future", "active", "closed")
    for key in ("startDate", "endDate", "completeDate"):
        if key in sprint:
            assert _OFFSET_DATE.match(sprint[key]), f"{key} {sprint[key]} is not dated as the example is"
            assert _OFFSET_DATE.match(example[key])
    assert ("completeDate" in sprint) == (sprint["state"] == "closed")


def test_board_sprints_take_the_shape_and_order_of_the_published_example(
    site: tuple[Site, TestClient],
) -> None:
    cases, client = site
    example = _example(_SPRINT_ROUTES[0])
    auth = _auth(cases.sandbox, "cloud")

    body = client.get(f"/rest/agile/1.0/board/{cases.board}/sprint", auth=auth).json()

    assert set(body) <= set(example) and {"startAt", "maxResults", "isLast", "values"} <= set(body)
    states = [s["state"] for s in body["values"]]
    assert states == sorted(states, key=("closed", "active", "future").index), "closed, active, future"
    assert "future" in states and "closed" in states
    for sprint in body["values"]:
        _check_sprint_like_example(sprint, example["values"][0])
        assert sprint["originBoardId"] == cases.board


def test_sprint_takes_the_shape_of_the_published_example(site: tuple[Site, TestClient]) -> None:
    cases, client = site
    example = _example(_SPRINT_ROUTES[1])

    sprint = client.get(f"/rest/agile/1.0/sprint/{cases.sprint}", auth=_auth(cases.sandbox, "cloud")).json()

    _check_sprint_like_example(sprint, example)
