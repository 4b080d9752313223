"""Jira comments as activity, and the issue payload as stored: never a comment's text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from connectors.jira.models import JiraComment, JiraCommentStamp, JiraIssue
from service.domain.enums import ActivityKind
from service.sync.jira_fields import JiraFieldMap
from service.sync.jira_mapping import map_comment, map_issue

CREATED = "2021-08-11T13:20:30.041+0300"
EDITED = "2021-08-12T09:00:00.000+0300"


def test_map_comment_is_activity_on_its_issue_with_author_and_times() -> None:
    comment = JiraCommentStamp.model_validate(
        {
            "id": "10120",
            "author": {"accountId": "5b10", "displayName": "Mia Krystof"},
            "created": CREATED,
            "updated": EDITED,
        }
    )

    activity = map_comment(comment, issue_id="10509", source_id=4)

    assert activity is not None
    assert (activity.source_id, activity.item_external_id, activity.external_id, activity.kind) == (
        4,
        "10509",
        "10120",
        ActivityKind.COMMENT,
    )
    assert activity.author == "Mia Krystof"
    plus_three = timezone(timedelta(hours=3))
    assert activity.created_at == datetime(2021, 8, 11, 13, 20, 30, 41000, tzinfo=plus_three)
    assert activity.updated_at == datetime(2021, 8, 12, 9, 0, tzinfo=plus_three)


def test_map_comment_never_edited_counts_from_its_creation() -> None:
    comment = JiraCommentStamp.model_validate({"id": "1", "created": CREATED})

    activity = map_comment(comment, issue_id="10509", source_id=4)

    assert activity is not None
    assert activity.updated_at == activity.created_at
    assert activity.author is None


def test_map_comment_without_creation_time_is_none() -> None:
    assert map_comment(JiraCommentStamp(id="1"), issue_id="10509", source_id=4) is None


def test_map_comment_leaves_the_body_behind() -> None:
    comment = JiraComment.model_validate({"id": "1", "body": "the client's secret plans", "created": CREATED})

    activity = map_comment(comment, issue_id="10509", source_id=4)

    assert "secret" not in repr(activity)


def test_map_issue_stores_the_payload_without_embedded_comments() -> None:
    raw = {
        "id": "10509",
        "key": "TALK-132",
        "fields": {
            "summary": "Prepare the launch talk",
            "project": {"id": "10012", "key": "TALK"},
            "created": CREATED,
            "updated": EDITED,
            "comment": {"comments": [{"id": "7", "body": "secret words", "created": CREATED}], "total": 1},
        },
    }

    item = map_issue(
        JiraIssue.model_validate(raw), source_id=4, field_map=JiraFieldMap(), browse_base="https://x"
    )

    assert "secret" not in json.dumps(item.raw)
    assert item.raw["fields"]["summary"] == "Prepare the launch talk"  # type: ignore[index]
    assert item.updated_at == datetime(2021, 8, 12, 6, 0, tzinfo=UTC)
