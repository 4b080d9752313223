from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from sandbox.clock import SandboxClock
from sandbox.emit import CollectingSink
from sandbox.jira.model import Issue
from sandbox.jira.scenario import populate_jira
from sandbox.jira.settings import JiraCredentials
from sandbox.jira.state import JiraWorld

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _world(seed: int, *, issues: int = 150) -> tuple[JiraWorld, CollectingSink]:
    sink = CollectingSink()
    world = JiraWorld(
        clock=SandboxClock(frozen_at=NOW),
        sink=sink,
        credentials=JiraCredentials("me@agency.example", "token", "pat", "oauth", "secret"),
    )
    populate_jira(
        world,
        random.Random(seed),
        clients=["Acme", "Borealis"],
        projects=3,
        issues_per_project=issues,
        days_of_history=120,
    )
    return world, sink


def _fingerprint(world: JiraWorld) -> list[tuple[str, str, int, int, str | None]]:
    return [(i.key, i.summary, i.updated_ms, len(i.histories), i.duedate) for i in world.issues.values()]


def test_populate_jira_same_seed_builds_the_same_site() -> None:
    assert _fingerprint(_world(3)[0]) == _fingerprint(_world(3)[0])


def test_populate_jira_other_seed_builds_another_site() -> None:
    assert _fingerprint(_world(3)[0]) != _fingerprint(_world(4)[0])


def test_populate_jira_sends_no_webhooks() -> None:
    assert _world(3)[1].deliveries == []


def test_populate_jira_has_every_issue_type_with_parents() -> None:
    world, _ = _world(5)
    types = Counter(i.issue_type.name for i in world.issues.values())
    assert {"Epic", "Story", "Task", "Bug", "Subtask"} <= set(types)
    subtasks = [i for i in world.issues.values() if i.issue_type.subtask]
    assert all(
        world.issues[s.parent_id].issue_type.name in ("Story", "Task", "Bug") for s in subtasks if s.parent_id
    )
    assert any(
        i.parent_id and world.issues[i.parent_id].issue_type.name == "Epic" for i in world.issues.values()
    )


def _fields_changed(issue: Issue) -> list[str]:
    return [item.field for history in issue.histories for item in history.items]


def test_populate_jira_history_has_due_moves_reopenings_and_flags() -> None:
    world, _ = _world(6, issues=400)
    histories = [_fields_changed(i) for i in world.issues.values()]
    reopened = [
        i for i in world.issues.values()
        if any(item.field == "resolution" and item.from_ is not None for h in i.histories for item in h.items)
    ]  # fmt: skip
    assert any("duedate" in fields for fields in histories)
    assert any("Flagged" in fields for fields in histories)
    assert any("Sprint" in fields for fields in histories)
    assert reopened


def test_populate_jira_histories_are_chronological_and_before_now() -> None:
    world, _ = _world(7)
    now_ms = world.now_ms()
    for issue in world.issues.values():
        times = [h.created_ms for h in issue.histories]
        assert times == sorted(times)
        assert all(issue.created_ms <= t <= issue.updated_ms < now_ms for t in times)


def test_populate_jira_keys_follow_creation_order() -> None:
    world, _ = _world(8)
    project_id = next(iter(world.projects))
    issues = sorted((i for i in world.issues.values() if i.project_id == project_id), key=lambda i: i.number)
    assert [i.created_ms for i in issues] == sorted(i.created_ms for i in issues)


def test_populate_jira_releases_have_dates_and_past_ones_are_mostly_released() -> None:
    world, _ = _world(9)
    assert all(v.release_date for v in world.versions.values())
    past = [v for v in world.versions.values() if v.release_date and v.release_date < "2026-02-01"]
    assert sum(v.released for v in past) >= len(past) // 2


def test_populate_jira_done_issues_carry_resolution_dates() -> None:
    world, _ = _world(10)
    for issue in world.issues.values():
        assert (issue.status.category.key == "done") == (issue.resolution_ms is not None)


def _changelog(world: JiraWorld) -> list[tuple[str, int, str, str | None, str | None]]:
    return [
        (issue.key, history.created_ms, item.field, item.from_, item.to)
        for issue in world.issues.values()
        for history in issue.histories
        for item in history.items
    ]


def test_populate_jira_same_seed_writes_the_same_changelogs() -> None:
    assert _changelog(_world(3)[0]) == _changelog(_world(3)[0])


def test_populate_jira_carries_sprints_over_as_jira_writes_them() -> None:
    world, _ = _world(6, issues=400)
    sprint_changes = [
        item for i in world.issues.values() for h in i.histories for item in h.items if item.field == "Sprint"
    ]
    carried = [c for c in sprint_changes if c.from_ and c.to and c.to.startswith(c.from_ + ", ")]
    assert carried
    assert all(c.to and all(part.strip().isdigit() for part in c.to.split(",")) for c in sprint_changes)


def test_populate_jira_shows_blocked_work_and_priority_changes() -> None:
    world, _ = _world(6, issues=400)
    changes = [item for i in world.issues.values() for h in i.histories for item in h.items]
    blocked = [
        c for c in changes if (c.field == "status" and c.to_string == "Blocked") or c.field == "Flagged"
    ]
    priorities = [c for c in changes if c.field == "priority"]
    assert blocked
    assert priorities
    assert all(c.from_string and c.to_string and c.from_ != c.to for c in priorities)


def test_populate_jira_commits_sprint_work_before_the_sprint_starts() -> None:
    world, _ = _world(6, issues=400)
    started = {s.id: s.start_ms for s in world.sprints.values() if s.start_ms is not None}
    committed_before = 0
    for issue in world.issues.values():
        for history in issue.histories:
            for item in history.items:
                if item.field != "Sprint" or not item.to:
                    continue
                newest = int(item.to.split(", ")[-1])
                start = started.get(newest)
                committed_before += start is not None and history.created_ms < start
    assert committed_before > 0
