from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from connectors.jira import AdfNode, adf_from_text
from connectors.jira.models import JiraIssue, JiraIssueFields, sprints_from_field


@pytest.fixture
def story(api_fixture: Callable[[str], Any]) -> JiraIssue:
    return JiraIssue.model_validate(api_fixture("issue_v3_story"))


def test_jira_issue_parses_standard_fields(story: JiraIssue) -> None:
    fields = story.fields

    assert (story.id, story.key) == ("10002", "ED-1")
    assert fields.summary == "Checkout page supports saved cards"
    assert fields.issue_type is not None
    assert (fields.issue_type.name, fields.issue_type.subtask, fields.issue_type.hierarchy_level) == (
        "Story",
        False,
        0,
    )
    assert fields.status is not None and fields.status.status_category is not None
    assert fields.status.status_category.key == "indeterminate"
    assert fields.priority is not None and fields.priority.name == "High"
    assert fields.assignee is not None and fields.assignee.account_id == "5b10ac8d82e05b22cc7d4ef5"
    assert fields.assignee.email_address == "mia@acme.example"
    assert fields.labels == ["checkout", "client-visible"]
    assert [component.name for component in fields.components] == ["Web"]
    assert fields.parent is not None and fields.parent.key == "ED-0"
    assert fields.project is not None and fields.project.key == "ED"


def test_jira_issue_parses_dates_with_colonless_offsets(story: JiraIssue) -> None:
    assert story.fields.created == datetime(2024, 9, 12, 19, 21, 32, 992000, tzinfo=UTC)
    assert story.fields.updated == datetime(
        2024, 9, 14, 8, 2, 11, 100000, tzinfo=timezone(timedelta(hours=3))
    )
    assert story.fields.due_date == date(2026, 6, 1)
    assert story.fields.resolution_date is None


def test_jira_issue_parses_fix_versions_links_and_time_tracking(story: JiraIssue) -> None:
    fields = story.fields

    assert [(v.id, v.name, v.release_date, v.released) for v in fields.fix_versions] == [
        ("10100", "2026.06", date(2026, 6, 5), False)
    ]
    link = fields.issue_links[0]
    assert (link.type.inward, link.inward_issue and link.inward_issue.key, link.outward_issue) == (
        "is blocked by",
        "ED-4",
        None,
    )
    assert fields.time_tracking is not None
    assert fields.time_tracking.original_estimate_seconds == 600
    assert (fields.time_original_estimate, fields.time_spent) == (600, 300)


def test_jira_issue_collects_custom_fields_by_id(story: JiraIssue) -> None:
    assert set(story.fields.custom) == {
        "customfield_10020",
        "customfield_10016",
        "customfield_10019",
        "customfield_10021",
    }
    assert story.fields.custom["customfield_10016"] == 5.0
    assert story.fields.custom["customfield_10021"] is None


def test_jira_issue_embedded_changelog_reports_incomplete_slice(story: JiraIssue) -> None:
    assert story.changelog is not None
    assert story.changelog.total == 3
    assert not story.changelog.is_complete
    item = story.changelog.histories[0].items[0]
    assert (item.field, item.from_value, item.to_string) == ("status", "10000", "In Progress")


def test_jira_issue_fields_empty_timetracking_and_null_lists_parse() -> None:
    fields = JiraIssueFields.model_validate({"timetracking": {}, "labels": None, "fixVersions": None})

    assert fields.time_tracking is not None and fields.time_tracking.original_estimate_seconds is None
    assert (fields.labels, fields.fix_versions) == ([], [])


def test_jira_issue_with_id_only_fields_parses() -> None:
    issue = JiraIssue.model_validate({"id": "1", "key": "A-1"})

    assert issue.fields.summary is None and issue.fields.custom == {}


def test_sprints_from_field_parses_cloud_sprint_values(story: JiraIssue) -> None:
    sprints = sprints_from_field(story.fields.custom["customfield_10020"])

    assert [(s.id, s.name, s.state, s.board_id) for s in sprints] == [(80, "ED Sprint 4", "active", 1)]
    assert sprints[0].end_date == datetime(2024, 9, 23, 15, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [None, "com.atlassian.greenhopper.service.sprint.Sprint@1[id=1]", [42, "x"]],
    ids=["null", "not-a-list", "non-object-items"],
)
def test_sprints_from_field_ignores_unusable_values(value: Any) -> None:
    assert sprints_from_field(value) == []


def test_adf_from_text_builds_paragraphs_and_hard_breaks() -> None:
    assert adf_from_text("Line one\nline two\n\nSecond") == {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Line one"},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "line two"},
                ],
            },
            {"type": "paragraph", "content": [{"type": "text", "text": "Second"}]},
        ],
    }


def test_adf_node_plain_text_round_trips_adf_from_text() -> None:
    text = "Flag: due date moved\nby 5 days\n\nSee ED-1"

    assert AdfNode.model_validate(adf_from_text(text)).plain_text() == text.replace("\n\n", "\n")


def test_adf_node_plain_text_renders_mentions() -> None:
    doc = {
        "type": "doc",
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": "1", "text": "@Mia"}},
                    {"type": "text", "text": " please check"},
                ],
            }
        ],
    }

    assert AdfNode.model_validate(doc).plain_text() == "@Mia please check"
