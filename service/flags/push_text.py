"""The text of a flag's comment: the risk, its evidence, what would resolve it, and on resolution a
first line saying so; once its source is removed, a first line saying the item is no longer tracked.
Plain text for Jira Data Center and Trello, ADF for Jira Cloud."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import JsonValue

from service.domain.enums import FlagState

# Trello has no comment properties: this line in the text finds a flag's comment again.
TRELLO_MARKER_PREFIX = "pmbridge-flag:"
UPDATES_ITSELF = "This comment updates itself when the situation changes."
NO_LONGER_TRACKED = (
    "pmbridge no longer tracks this item, so this comment will not change again. "
    "The risk below is kept as it was last seen."
)
# Evaluator bookkeeping stored alongside the rule's values; not evidence a reader needs.
_HIDDEN_EVIDENCE = frozenset({"push_to_jira", "client_visible"})
_MAX_EVIDENCE_ITEMS = 12
_MAX_VALUE_CHARS = 200

RESOLUTION_BY_RULE: Mapping[str, str] = {
    "overdue_commitment": "Deliver it, or agree a new date with the client and set it as the due date.",
    "due_soon_not_started": "Start the work (move it to an in-progress status) or agree a later due date.",
    "promised_date_moved": "Hold the current promised date; each further move keeps this flag open.",
    "forecast_misses_promise": "Cut scope or add capacity until the forecast meets the promised date.",
    "stale_in_progress": "Move the work forward (any status change or update) or take it out of progress.",
    "blocked_too_long": "Remove the blocker: clear the Flagged field, blocked label or blocking link.",
    "unassigned_high_priority": "Assign someone, or lower the priority if it is not urgent.",
    "scope_added_after_promise": "Agree the added scope with the client, or move it to a later milestone.",
    "sprint_commitment_slipping": "Re-plan the sprint with the team and tell the client what moves.",
    "reopened_after_done": "Finish the work again and keep it done.",
}


@dataclass(frozen=True, slots=True)
class PushedFlag:
    """What a comment shows of a flag, read once so rendering needs no database."""

    id: int
    rule_id: str
    severity: str
    state: str
    message: str
    evidence: dict[str, Any]
    fingerprint: str
    resolved_at: datetime | None
    # The flag's source was removed: the comment says so and stops promising updates.
    untracked: bool = False

    @property
    def push_state(self) -> str:
        return push_state_of(fingerprint=self.fingerprint, state=self.state)

    @property
    def is_resolved(self) -> bool:
        return self.state == FlagState.RESOLVED.value


def push_state_of(*, fingerprint: str, state: str) -> str:
    """What `flags.pushed_fingerprint` holds: a comment is stale when fingerprint or state moved."""
    return f"{fingerprint}:{state}"


def trello_marker(flag_id: int) -> str:
    return f"{TRELLO_MARKER_PREFIX}{flag_id}"


def has_trello_marker(text: str, flag_id: int) -> bool:
    marker = trello_marker(flag_id)
    return any(line.strip() == marker for line in text.splitlines())


@dataclass(frozen=True, slots=True)
class _Blocks:
    untracked: str | None
    resolved: str | None
    risk_label: str
    risk: str
    evidence: list[str]
    resolution: str | None


def _blocks(flag: PushedFlag) -> _Blocks:
    resolved = None
    if flag.is_resolved:
        when = f" as of {_format_instant(flag.resolved_at)}" if flag.resolved_at is not None else ""
        resolved = f"no longer detected{when}. The risk below is kept for the record."
    return _Blocks(
        untracked=NO_LONGER_TRACKED if flag.untracked else None,
        resolved=resolved,
        risk_label=f"Risk ({flag.severity}):",
        risk=flag.message,
        evidence=_evidence_lines(flag.evidence),
        resolution=None if flag.is_resolved or flag.untracked else RESOLUTION_BY_RULE.get(flag.rule_id),
    )


def render_comment_text(flag: PushedFlag, *, with_marker: bool = False) -> str:
    """Plain text, blocks separated by blank lines; `with_marker` appends the Trello marker line."""
    blocks = _blocks(flag)
    parts: list[str] = []
    if blocks.untracked is not None:
        parts.append(f"No longer tracked: {blocks.untracked}")
    if blocks.resolved is not None:
        parts.append(f"Resolved: {blocks.resolved}")
    parts.append(f"{blocks.risk_label} {blocks.risk}")
    if blocks.evidence:
        parts.append("\n".join(["Evidence:", *(f"- {line}" for line in blocks.evidence)]))
    if blocks.resolution is not None:
        parts.append(f"What would resolve it: {blocks.resolution}")
    if blocks.untracked is None:
        parts.append(UPDATES_ITSELF)
    if with_marker:
        parts.append(trello_marker(flag.id))
    return "\n\n".join(parts)


def render_comment_adf(flag: PushedFlag) -> dict[str, JsonValue]:
    """The same content as an ADF document (developer.atlassian.com/cloud/jira/platform/apis/document/)."""
    blocks = _blocks(flag)
    content: list[JsonValue] = []
    if blocks.untracked is not None:
        content.append(_paragraph(_strong("No longer tracked:"), _text(f" {blocks.untracked}")))
    if blocks.resolved is not None:
        content.append(_paragraph(_strong("Resolved:"), _text(f" {blocks.resolved}")))
    content.append(_paragraph(_strong(blocks.risk_label), _text(f" {blocks.risk}")))
    if blocks.evidence:
        content.append(_paragraph(_strong("Evidence:")))
        items: list[JsonValue] = [
            {"type": "listItem", "content": [_paragraph(_text(line))]} for line in blocks.evidence
        ]
        content.append({"type": "bulletList", "content": items})
    if blocks.resolution is not None:
        content.append(_paragraph(_strong("What would resolve it:"), _text(f" {blocks.resolution}")))
    if blocks.untracked is None:
        content.append(_paragraph({"type": "text", "text": UPDATES_ITSELF, "marks": [{"type": "em"}]}))
    return {"type": "doc", "version": 1, "content": content}


def _evidence_lines(evidence: Mapping[str, Any]) -> list[str]:
    lines = [
        f"{key.replace('_', ' ')}: {_format_value(value)}"
        for key, value in evidence.items()
        if key not in _HIDDEN_EVIDENCE
    ]
    if len(lines) > _MAX_EVIDENCE_ITEMS:
        hidden = len(lines) - _MAX_EVIDENCE_ITEMS
        lines = [*lines[:_MAX_EVIDENCE_ITEMS], f"… and {hidden} more"]
    return lines


def _format_value(value: Any) -> str:
    if value is None:
        text = "none"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, str | int | float):
        text = str(value)
    elif isinstance(value, list | tuple):
        text = ", ".join(_format_value(item) for item in value) or "none"
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


def _format_instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _text(text: str) -> dict[str, JsonValue]:
    return {"type": "text", "text": text}


def _strong(text: str) -> dict[str, JsonValue]:
    return {"type": "text", "text": text, "marks": [{"type": "strong"}]}


def _paragraph(*nodes: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {"type": "paragraph", "content": list(nodes)}
