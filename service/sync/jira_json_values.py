"""The values pmbridge reads out of the decoded Jira structs (`connectors.jira.models.structs`),
each checked to have the type the wire model gives it; anything else raises `Unusual` so the caller
falls back to the wire models."""

from __future__ import annotations

from datetime import date
from typing import Any

from connectors.jira.models.structs import IssueType, Link, Status, User
from service.domain.enums import ItemKind, StatusCategory
from service.domain.work import Person, status_category_from_jira
from service.sync.jira_mapping import BLOCKED_WORDS, BLOCKS_LINK

# -- values ----------------------------------------------------------------------------------------


def status_of(value: Status | None) -> tuple[str, StatusCategory]:
    if value is None:
        return "", StatusCategory.TODO
    category = value.statusCategory
    if category is None:
        return value.name, StatusCategory.TODO
    return value.name, status_category_from_jira(category.key)


def kind_of(value: IssueType | None) -> ItemKind:
    if value is None:
        return ItemKind.TASK
    level = value.hierarchyLevel
    if value.subtask or (level is not None and level < 0):
        return ItemKind.SUBTASK
    lowered = value.name.strip().lower()
    if lowered == "epic" or (level or 0) >= 1:
        return ItemKind.EPIC
    if lowered == "bug":
        return ItemKind.BUG
    if lowered in ("story", "user story"):
        return ItemKind.STORY
    return ItemKind.TASK


def person_of(value: User | None) -> Person | None:
    if value is None:
        return None
    identity = value.accountId or value.key or value.name
    if identity is None:
        return None
    return Person(external_id=identity, display_name=value.displayName or identity, email=value.emailAddress)


def custom_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def custom_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def is_blocked(flagged: Any, status: str, labels: tuple[str, ...], links: list[Link] | None) -> bool:
    if flagged:
        return True
    lowered = status.lower()
    if any(word in lowered for word in BLOCKED_WORDS):
        return True
    if any(label.lower() in ("blocked", "impediment") for label in labels):
        return True
    return any(
        link.inwardIssue is not None and link.type.name.strip().lower() == BLOCKS_LINK for link in links or ()
    )
