"""The comment a flag becomes: risk, evidence, resolution, and the resolved first line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.jira import AdfNode
from service.flags.push_text import (
    NO_LONGER_TRACKED,
    UPDATES_ITSELF,
    PushedFlag,
    has_trello_marker,
    render_comment_adf,
    render_comment_text,
)


def _flag(
    *,
    state: str = "open",
    rule_id: str = "overdue_commitment",
    evidence: dict[str, Any] | None = None,
    untracked: bool = False,
) -> PushedFlag:
    return PushedFlag(
        id=42,
        rule_id=rule_id,
        severity="critical",
        state=state,
        message="ACM-1 is 3 day(s) past its promised date 2026-11-20",
        evidence=evidence
        if evidence is not None
        else {
            "promised_date": "2026-11-20",
            "days_overdue": 3,
            "push_to_jira": True,
            "client_visible": False,
        },
        fingerprint="fp",
        resolved_at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC) if state == "resolved" else None,
        untracked=untracked,
    )


def test_render_comment_text_open_flag_states_risk_evidence_and_resolution() -> None:
    text = render_comment_text(_flag())

    assert text.splitlines()[0] == "Risk (critical): ACM-1 is 3 day(s) past its promised date 2026-11-20"
    assert "- promised date: 2026-11-20\n- days overdue: 3" in text
    assert "What would resolve it: Deliver it" in text
    assert text.endswith(UPDATES_ITSELF)


def test_render_comment_text_hides_evaluator_bookkeeping_from_evidence() -> None:
    text = render_comment_text(_flag())

    assert "push to jira" not in text
    assert "client visible" not in text


def test_render_comment_text_resolved_flag_starts_with_resolved() -> None:
    text = render_comment_text(_flag(state="resolved"))

    assert text.startswith("Resolved: no longer detected as of 2026-11-27 09:30 UTC.")
    assert "What would resolve it" not in text


def test_render_comment_text_untracked_flag_says_so_and_promises_no_update() -> None:
    text = render_comment_text(_flag(untracked=True), with_marker=True)

    assert text.startswith(f"No longer tracked: {NO_LONGER_TRACKED}\n\nRisk (critical): ACM-1 is 3 day(s)")
    assert "- days overdue: 3" in text
    assert "What would resolve it" not in text
    assert UPDATES_ITSELF not in text
    assert text.splitlines()[-1] == "pmbridge-flag:42"


def test_render_comment_adf_untracked_flag_leads_with_no_longer_tracked() -> None:
    node = AdfNode.model_validate(render_comment_adf(_flag(untracked=True)))

    assert node.plain_text().startswith("No longer tracked:")
    assert UPDATES_ITSELF not in node.plain_text()


def test_render_comment_text_unknown_rule_says_it_updates_itself() -> None:
    text = render_comment_text(_flag(rule_id="custom.vip_waiting"))

    assert "What would resolve it" not in text
    assert UPDATES_ITSELF in text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "none"),
        (True, "yes"),
        (["a", "b"], "a, b"),
        ({"k": 1}, '{"k": 1}'),
        ("x" * 500, "x" * 199 + "…"),
    ],
    ids=["none", "bool", "list", "mapping", "long"],
)
def test_render_comment_text_formats_evidence_values(value: object, shown: str) -> None:
    assert f"- value: {shown}" in render_comment_text(_flag(evidence={"value": value}))


def test_render_comment_text_with_marker_ends_with_the_marker_line() -> None:
    text = render_comment_text(_flag(), with_marker=True)

    assert text.splitlines()[-1] == "pmbridge-flag:42"


@pytest.mark.parametrize(
    ("text", "found"),
    [("risk\n\npmbridge-flag:42", True), ("pmbridge-flag:420", False), ("see pmbridge-flag:42 here", False)],
    ids=["own-line", "other-flag", "inline"],
)
def test_has_trello_marker_matches_only_the_whole_marker_line(text: str, found: bool) -> None:
    assert has_trello_marker(text, 42) is found


def test_render_comment_adf_is_a_document_with_the_evidence_as_a_bullet_list() -> None:
    document = render_comment_adf(_flag())

    node = AdfNode.model_validate(document)
    assert [block.type for block in node.content] == [
        "paragraph",
        "paragraph",
        "bulletList",
        "paragraph",
        "paragraph",
    ]
    assert "days overdue: 3" in node.plain_text()
