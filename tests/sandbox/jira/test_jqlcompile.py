from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.app import Sandbox
from sandbox.emit import CollectingSink
from sandbox.jira.changes import IssueChanges
from sandbox.jira.jql import JqlError
from sandbox.jira.model import Issue
from sandbox.jira.settings import JiraSettings
from sandbox.jira.timefmt import to_ms
from sandbox.scenarios import build_sandbox


def _keys(sandbox: Sandbox, jql: str) -> set[str]:
    world = sandbox.jira
    predicate = world.compile(jql).predicate
    return {issue.key for issue in world.issues.values() if predicate(issue)}


def test_compile_updated_epoch_millis_and_minute_string_select_the_same(sandbox: Sandbox) -> None:
    bound = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
    by_millis = _keys(sandbox, f"updated >= {to_ms(bound)} ORDER BY updated asc")
    by_minutes = _keys(sandbox, "updated >= '2026-02-01 00:00' order by updated asc")
    by_slashes = _keys(sandbox, 'updated >= "2026/02/01"')
    assert by_millis == by_minutes == by_slashes
    assert 0 < len(by_millis) < len(sandbox.jira.issues)


def test_compile_minute_string_is_read_in_the_users_time_zone() -> None:
    berlin = build_sandbox(
        "tiny", 7, now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), sink=CollectingSink(), with_trello=False,
        jira_settings=JiraSettings(timezone="Europe/Berlin"),
    )  # fmt: skip
    query = berlin.jira.compile("updated >= '2026-02-01 01:00'")
    instant = to_ms(datetime(2026, 2, 1, 0, 0, tzinfo=UTC))
    probe = next(iter(berlin.jira.issues.values()))
    probe.updated_ms = instant
    assert query.predicate(probe)
    probe.updated_ms = instant - 1
    assert not query.predicate(probe)


def test_compile_relative_date_counts_back_from_now(
    sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    sandbox.clock.advance(timedelta(days=2))
    assert issue.key not in _keys(sandbox, "updated >= -1d")
    assert issue.key in _keys(sandbox, "updated >= -3d")


def test_compile_project_in_selects_both_projects(sandbox: Sandbox) -> None:
    keys = _keys(sandbox, "project in (ACM, bor)")
    assert len(keys) == len(sandbox.jira.issues)
    assert all(k.startswith("ACM-") for k in _keys(sandbox, "project = 'Acme Retail Web'"))


def test_compile_key_and_issuekey_in_select_exact_issues(sandbox: Sandbox) -> None:
    assert _keys(sandbox, "key in (ACM-1, BOR-2)") == {"ACM-1", "BOR-2"}
    assert _keys(sandbox, "issuekey = ACM-3") == {"ACM-3"}
    assert _keys(sandbox, "project = ACM AND key != ACM-1") == {f"ACM-{n}" for n in range(2, 13)}


def test_compile_status_category_matches_key_name_and_id(
    sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    done = new_issue("Shipped", status="Done")
    started = new_issue("Started", status="In Review")
    assert done.key in _keys(sandbox, "statusCategory = Done")
    assert started.key in _keys(sandbox, 'statusCategory = "In Progress"')
    assert started.key in _keys(sandbox, "statusCategory in (indeterminate)")
    assert done.key not in _keys(sandbox, "statusCategory != 3")


def test_compile_negative_operator_never_matches_empty(
    sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    user = next(iter(sandbox.jira.users))
    unassigned = new_issue("Nobody")
    assert unassigned.key not in _keys(sandbox, f"assignee != {user}")
    assert unassigned.key in _keys(sandbox, "assignee is EMPTY")
    assert unassigned.key in _keys(sandbox, f"assignee in (EMPTY, {user})")


def test_compile_current_user_matches_the_caller(sandbox: Sandbox, new_issue: Callable[..., Issue]) -> None:
    mine = new_issue("Mine", assignee_id=sandbox.jira.current_account_id)
    assert _keys(sandbox, "assignee = currentUser()") == {mine.key}


def test_compile_flag_sprint_and_version_clauses(sandbox: Sandbox, new_issue: Callable[..., Issue]) -> None:
    world = sandbox.jira
    version = next(v for v in world.versions.values() if v.project_id == world.project_by_key["ACM"])
    sprint = next(s for s in world.sprints.values() if s.state == "active")
    issue = new_issue("Tagged", flagged=True, fix_version_ids=(version.id,), sprint_ids=(sprint.id,))
    assert issue.key in _keys(sandbox, "Flagged is not EMPTY AND cf[10021] = Impediment")
    assert issue.key in _keys(sandbox, f'fixVersion = "{version.name}"')
    assert issue.key in _keys(sandbox, "sprint in openSprints()")


def test_compile_text_contains_is_case_insensitive(sandbox: Sandbox, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue("Quarterly Widget audit")
    assert _keys(sandbox, 'summary ~ "widget"') == {issue.key}


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("nosuchfield = 1", "Field 'nosuchfield' does not exist or you do not have permission to view it."),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("key = ACM-999", "An issue with key 'ACM-999' does not exist for field 'key'."),
        ("status = Shipped", "The value 'Shipped' does not exist for the field 'status'."),
        ("project ~ ACM", "The operator '~' is not supported by the 'project' field."),
        ("updated > 'yesterday'", "Date value 'yesterday' for field 'updated' is invalid."),
        ("updated > nosuch()", "Unable to find JQL function 'nosuch()'."),
    ],
    ids=["field", "project-value", "issue-key", "status-value", "operator", "date", "function"],
)
def test_compile_invalid_query_raises_jira_message(sandbox: Sandbox, jql: str, message: str) -> None:
    with pytest.raises(JqlError) as raised:
        sandbox.jira.compile(jql)
    assert raised.value.message.startswith(message)


def test_compile_bounds_come_from_top_level_and_only(sandbox: Sandbox) -> None:
    compiled = sandbox.jira.compile("project = ACM AND updated > 1000 AND updated <= 5000")
    assert compiled.bounds["updated"] == (1001, 5000)
    assert compiled.project_ids == frozenset({sandbox.jira.project_by_key["ACM"]})
    assert sandbox.jira.compile("project = ACM OR updated > 1000").bounds == {}


def test_compile_change_through_world_moves_issue_between_result_sets(
    sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    before = issue.key in _keys(sandbox, "statusCategory = new")
    sandbox.jira.update_issue(issue, IssueChanges(status="In Progress"))
    assert (before, issue.key in _keys(sandbox, "statusCategory = new")) == (True, False)
