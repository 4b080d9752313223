"""Jira fixtures: a bigger world for paging, and helpers that shape issues through the world's behaviour."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.jira.changes import IssueChanges
from sandbox.jira.model import Issue
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer

FROZEN_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def paging_sandbox() -> Sandbox:
    """Two projects of 130 issues each; read-only tests share it."""
    return build_sandbox(
        "tiny", 11, now=FROZEN_NOW, sink=CollectingSink(), with_trello=False, issues_per_project=130
    )


@pytest.fixture(scope="module")
def paging_api(paging_sandbox: Sandbox) -> Iterator[TestClient]:
    with TestClient(
        create_sandbox_app(paging_sandbox),
        base_url="https://sandbox.test",
    ) as client:
        client.auth = (paging_sandbox.jira_email, paging_sandbox.jira_api_token)
        yield client


@pytest.fixture
def new_issue(sandbox: Sandbox) -> Callable[..., Issue]:
    """Create an issue in the first project (as a user would, with webhooks), optionally changed after."""

    def create(summary: str = "Fresh issue", *, project: str = "ACM", **changes: object) -> Issue:
        world = sandbox.jira
        found = world.find_project(project)
        assert found is not None
        issue = world.create_issue(found, summary=summary, type_name="Story")
        if changes:
            world.update_issue(issue, IssueChanges(**changes))  # type: ignore[arg-type]
        return issue

    return create


@pytest.fixture
def served(sandbox: Sandbox) -> Iterator[str]:
    """The sandbox served over loopback; yields its base URL."""
    with LoopbackServer(create_sandbox_app(sandbox)) as server:
        sandbox.bind(server.base_url)
        yield server.base_url
