"""The Jira site's REST surface: every route the sandbox serves for Jira, mounted at the app root."""

from __future__ import annotations

from starlette.routing import BaseRoute

from sandbox.jira.routes_agile import agile_routes
from sandbox.jira.routes_agile_write import agile_write_routes
from sandbox.jira.routes_comments import comment_routes
from sandbox.jira.routes_issue import issue_routes
from sandbox.jira.routes_meta import meta_routes
from sandbox.jira.routes_project_write import project_write_routes
from sandbox.jira.routes_search import search_routes
from sandbox.jira.routes_webhooks import webhook_routes
from sandbox.jira.state import JiraWorld


def jira_routes(world: JiraWorld) -> list[BaseRoute]:
    return [
        *meta_routes(world),
        *project_write_routes(world),
        *search_routes(world),
        *issue_routes(world),
        *comment_routes(world),
        *agile_routes(world),
        *agile_write_routes(world),
        *webhook_routes(world),
    ]
