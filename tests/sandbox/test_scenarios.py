from __future__ import annotations

from datetime import UTC, datetime

from sandbox.emit import CollectingSink
from sandbox.scenarios import SCENARIOS, build_sandbox

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_build_sandbox_same_seed_gives_same_credentials_and_issues() -> None:
    first = build_sandbox("tiny", 4, now=NOW, sink=CollectingSink())
    second = build_sandbox("tiny", 4, now=NOW, sink=CollectingSink())
    assert first.connection_info("http://x") == second.connection_info("http://x")
    assert [i.summary for i in first.jira.issues.values()] == [i.summary for i in second.jira.issues.values()]


def test_build_sandbox_tiny_has_both_worlds_sized_by_the_table() -> None:
    sandbox = build_sandbox("tiny", 1, now=NOW, sink=CollectingSink())
    size = SCENARIOS["tiny"]
    assert len(sandbox.jira.projects) == size.jira_projects
    assert len(sandbox.jira.issues) == size.jira_projects * size.issues_per_project
    assert sandbox.trello is not None
    assert len(sandbox.trello.boards) >= size.trello_boards


def test_build_sandbox_large_is_100000_issues() -> None:
    size = SCENARIOS["large"]
    assert size.jira_projects * size.issues_per_project == 100_000


def test_build_sandbox_without_trello_leaves_it_out() -> None:
    sandbox = build_sandbox("tiny", 1, now=NOW, sink=CollectingSink(), with_trello=False)
    assert sandbox.trello is None
    assert sandbox.connection_info("http://x")["trello"] is None


def test_build_sandbox_trello_credentials_have_real_shapes() -> None:
    sandbox = build_sandbox("tiny", 1, now=NOW, sink=CollectingSink())
    assert len(sandbox.trello_api_key) == 32
    assert sandbox.trello_token.startswith("ATTA")
    assert len(sandbox.trello_app_secret) == 64
