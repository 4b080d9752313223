from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from connectors.http import InvalidPayloadError
from connectors.jira import (
    SignatureCheck,
    check_signature,
    parse_webhook,
    remove_comment_text,
    verify_signature,
)
from connectors.jira.models import JiraCommentEvent, JiraIssueEvent, JiraUnsupportedEvent, JiraVersionEvent

SECRET = "whsec-test-secret"
BODY = b'{"timestamp":1628677146887,"webhookEvent":"jira:issue_updated"}'
WebhookBody = Callable[[str], bytes]


def _independent_signature(body: bytes, secret: str = SECRET, digest: str = "sha256") -> str:
    return f"{digest}=" + hmac.new(secret.encode(), body, getattr(hashlib, digest)).hexdigest()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (_independent_signature(BODY), SignatureCheck.VALID),
        (_independent_signature(BODY).upper().replace("SHA256=", "sha256="), SignatureCheck.VALID),
        (_independent_signature(BODY, digest="sha512"), SignatureCheck.VALID),
        (_independent_signature(BODY, secret="other-secret"), SignatureCheck.MISMATCH),
        (_independent_signature(BODY + b" "), SignatureCheck.MISMATCH),
        (None, SignatureCheck.MISSING),
        ("", SignatureCheck.MISSING),
        (hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(), SignatureCheck.MALFORMED),
        ("sha256=", SignatureCheck.MALFORMED),
        ("sha256=zz" + "0" * 62, SignatureCheck.MALFORMED),
        ("sha256=abc", SignatureCheck.MALFORMED),
        ("sha256=é" + "0" * 63, SignatureCheck.MALFORMED),
        (_independent_signature(BODY, digest="md5"), SignatureCheck.UNSUPPORTED_METHOD),
    ],
    ids=[
        "valid",
        "uppercase-hex",
        "valid-sha512",
        "wrong-secret",
        "tampered-body",
        "missing",
        "empty",
        "no-method-prefix",
        "empty-digest",
        "non-hex",
        "truncated",
        "non-ascii",
        "unsupported-method",
    ],
)
def test_check_signature_verdicts(header: str | None, expected: SignatureCheck) -> None:
    assert check_signature(body=BODY, header=header, secret=SECRET) is expected


def test_verify_signature_true_only_for_valid_signature() -> None:
    good = _independent_signature(BODY)

    assert verify_signature(body=BODY, header=good, secret=SECRET)
    assert not verify_signature(body=BODY, header=good, secret="wrong")


def test_verify_signature_on_fixture_body_matches_independent_hmac(webhook_body: WebhookBody) -> None:
    body = webhook_body("comment_created")

    assert verify_signature(body=body, header=_independent_signature(body), secret=SECRET)


def test_parse_webhook_issue_updated_status_carries_changelog(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("issue_updated_status"))

    assert isinstance(event, JiraIssueEvent)
    assert (event.action, event.issue.key, event.issue_event_type_name) == (
        "updated",
        "TALK-132",
        "issue_generic",
    )
    assert event.timestamp == datetime(2021, 8, 11, 10, 19, 6, 887000, tzinfo=UTC)
    assert event.changelog is not None
    item = event.changelog.items[0]
    assert (item.field, item.from_string, item.to_string) == ("status", "To Do", "In Progress")
    assert event.issue.fields.status is not None and event.issue.fields.status.name == "In Progress"
    assert event.user is not None and event.user.account_id == "5b10ac8d82e05b22cc7d4ef5"


def test_parse_webhook_issue_updated_duedate_keeps_both_value_forms(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("issue_updated_duedate"))

    assert isinstance(event, JiraIssueEvent) and event.changelog is not None
    item = event.changelog.items[0]
    assert (item.from_value, item.to_value, item.to_string) == (
        "2026-06-05",
        "2026-06-12",
        "2026-06-12 00:00:00.0",
    )
    assert event.issue.fields.due_date == date(2026, 6, 12)


def test_parse_webhook_issue_created_has_no_changelog(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("issue_created"))

    assert isinstance(event, JiraIssueEvent)
    assert (event.action, event.changelog) == ("created", None)


def test_parse_webhook_issue_deleted(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("issue_deleted"))

    assert isinstance(event, JiraIssueEvent)
    assert (event.action, event.issue.id, event.issue.key) == ("deleted", "10509", "TALK-132")


def test_parse_webhook_comment_created_has_plain_body_and_trimmed_issue(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("comment_created"))

    assert isinstance(event, JiraCommentEvent)
    assert (event.action, event.comment.id, event.comment.text) == (
        "created",
        "10120",
        "Slides are *almost* done",
    )
    assert event.issue.key == "TALK-132"
    assert event.issue.fields.assignee is None


def test_parse_webhook_comment_deleted(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("comment_deleted"))

    assert isinstance(event, JiraCommentEvent) and event.action == "deleted"


def test_parse_webhook_version_released(webhook_body: WebhookBody) -> None:
    event = parse_webhook(webhook_body("version_released"))

    assert isinstance(event, JiraVersionEvent)
    assert (event.action, event.version.id, event.version.released, event.version.project_id) == (
        "released",
        "10100",
        True,
        10000,
    )
    assert event.version.release_date == date(2026, 6, 5)


@pytest.mark.parametrize(
    ("fixture", "event_name"),
    [("unknown_event", "worklog_created"), ("sprint_started", "sprint_started")],
    ids=["worklog-created", "sprint-started"],
)
def test_parse_webhook_unknown_event_is_unsupported(
    webhook_body: WebhookBody, fixture: str, event_name: str
) -> None:
    event = parse_webhook(webhook_body(fixture))

    assert isinstance(event, JiraUnsupportedEvent)
    assert event.webhook_event == event_name


def test_parse_webhook_without_event_name_is_unsupported() -> None:
    event = parse_webhook(b'{"timestamp": "not a time"}')

    assert event == JiraUnsupportedEvent(webhook_event=None, timestamp=None)


def test_parse_webhook_known_event_with_wrong_shape_raises(webhook_body: WebhookBody) -> None:
    with pytest.raises(InvalidPayloadError, match="jira:issue_updated"):
        parse_webhook(webhook_body("issue_updated_missing_issue"))


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""], ids=["not-json", "array", "empty"])
def test_parse_webhook_non_object_body_raises(body: bytes) -> None:
    with pytest.raises(InvalidPayloadError):
        parse_webhook(body)


def test_remove_comment_text_drops_a_comment_events_body(webhook_body: WebhookBody) -> None:
    payload = json.loads(webhook_body("comment_created"))

    removed = remove_comment_text(payload)

    assert removed is True
    assert "Slides" not in json.dumps(payload)
    event = parse_webhook(json.dumps(payload).encode())
    assert isinstance(event, JiraCommentEvent)
    assert (event.comment.id, event.comment.body, event.issue.id) == ("10120", None, "10509")


def test_remove_comment_text_drops_the_comments_an_issue_payload_embeds(webhook_body: WebhookBody) -> None:
    payload = json.loads(webhook_body("issue_updated_status"))
    payload["issue"]["fields"]["comment"] = {
        "comments": [{"id": "7", "body": "secret words", "created": "2021-08-11T13:20:30.041+0300"}],
        "total": 1,
    }

    assert remove_comment_text(payload) is True
    assert "secret" not in json.dumps(payload)
    assert payload["issue"]["fields"]["comment"]["comments"][0]["id"] == "7"


def test_remove_comment_text_leaves_other_events_as_they_are(webhook_body: WebhookBody) -> None:
    payload = json.loads(webhook_body("issue_updated_status"))
    before = json.dumps(payload)

    assert remove_comment_text(payload) is False
    assert json.dumps(payload) == before
