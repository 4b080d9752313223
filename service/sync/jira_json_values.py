"""Reading the values pmbridge maps out of decoded Jira JSON, each checked to have the type the
wire model gives it; anything else raises `Unusual` so the caller falls back to the wire models."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from connectors.jira.models import CUSTOM_FIELD_PREFIX
from service.domain.enums import ItemKind, StatusCategory
from service.domain.work import Person, status_category_from_jira
from service.sync.jira_mapping import BLOCKED_WORDS, BLOCKS_LINK

# Jira's own form (`2024-09-12T19:21:32.992+0000`) and ISO 8601 with an offset; anything else
# (epoch numbers, other precisions) is left to the wire models.
_DATETIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:?\d\d)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


class Unusual(Exception):
    """A value the fast path does not read; the wire models decide."""


def read_datetime(value: Any) -> datetime:
    if type(value) is not str or not _DATETIME.fullmatch(value):
        raise Unusual
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Unusual from None
    return parsed


def optional_datetime(value: Any) -> datetime | None:
    return None if value is None else read_datetime(value)


def read_date(value: Any) -> date | None:
    if value is None:
        return None
    if type(value) is not str or not _DATE.fullmatch(value):
        raise Unusual
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Unusual from None


def optional_str(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise Unusual


def optional_int(value: Any) -> int | None:
    if value is None or type(value) is int:
        return value
    raise Unusual


def strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if type(value) is not list or not all(type(v) is str for v in value):
        raise Unusual
    return tuple(value)


def named(value: Any) -> str | None:
    """The `name` of a status, priority, component or link type object (required there)."""
    if value is None:
        return None
    if type(value) is not dict:
        raise Unusual
    name = value.get("name")
    if type(name) is not str:
        raise Unusual
    return name


def named_list(value: Any) -> list[str]:
    if value is None:
        return []
    if type(value) is not list:
        raise Unusual
    names: list[str] = []
    for entry in value:
        name = named(entry)
        if name is None:
            raise Unusual
        names.append(name)
    return names


def version_ids(value: Any) -> list[str]:
    if value is None:
        return []
    if type(value) is not list:
        raise Unusual
    ids: list[str] = []
    for version in value:
        if (
            type(version) is not dict
            or type(version.get("id")) is not str
            or type(version.get("name")) is not str
        ):
            raise Unusual
        ids.append(version["id"])
    return ids


def ref_id(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is not dict or type(value.get("id")) is not str or type(value.get("key")) is not str:
        raise Unusual
    ref_id: str = value["id"]
    return ref_id


def status_of(value: Any) -> tuple[str, StatusCategory]:
    if value is None:
        return "", StatusCategory.TODO
    name = named(value)
    category = value.get("statusCategory")
    if category is None:
        return name or "", StatusCategory.TODO
    if type(category) is not dict or type(category.get("key")) is not str:
        raise Unusual
    return name or "", status_category_from_jira(category["key"])


def kind_of(value: Any) -> ItemKind:
    if value is None:
        return ItemKind.TASK
    name = named(value) or ""
    subtask = value.get("subtask", False)
    level = value.get("hierarchyLevel")
    if type(subtask) is not bool or not (level is None or type(level) is int):
        raise Unusual
    if subtask or (level is not None and level < 0):
        return ItemKind.SUBTASK
    lowered = name.strip().lower()
    if lowered == "epic" or (level or 0) >= 1:
        return ItemKind.EPIC
    if lowered == "bug":
        return ItemKind.BUG
    if lowered in ("story", "user story"):
        return ItemKind.STORY
    return ItemKind.TASK


def person_of(value: Any) -> Person | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise Unusual
    account_id = optional_str(value.get("accountId"))
    identity = account_id or optional_str(value.get("key")) or optional_str(value.get("name"))
    display_name = optional_str(value.get("displayName"))
    email = optional_str(value.get("emailAddress"))
    if identity is None:
        return None
    return Person(external_id=identity, display_name=display_name or identity, email=email)


def custom_value(fields: dict[str, Any], field_id: str | None) -> Any:
    """A custom field's value; the wire model keeps only `customfield_*` keys as custom fields."""
    if field_id is None or not field_id.startswith(CUSTOM_FIELD_PREFIX):
        return None
    return fields.get(field_id)


def custom_date(fields: dict[str, Any], field_id: str | None) -> date | None:
    value = custom_value(fields, field_id)
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def custom_number(fields: dict[str, Any], field_id: str | None) -> float | None:
    value = custom_value(fields, field_id)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def is_blocked(fields: dict[str, Any], flagged: str | None, status: str, labels: tuple[str, ...]) -> bool:
    if custom_value(fields, flagged):
        return True
    lowered = status.lower()
    if any(word in lowered for word in BLOCKED_WORDS):
        return True
    if any(label.lower() in ("blocked", "impediment") for label in labels):
        return True
    links = fields.get("issuelinks")
    if links is None:
        return False
    if type(links) is not list:
        raise Unusual
    blocked = False
    for link in links:
        if type(link) is not dict:
            raise Unusual
        name = named(link.get("type"))
        if name is None:
            raise Unusual
        inward = link.get("inwardIssue")
        ref_id(link.get("outwardIssue"))
        if ref_id(inward) is not None and name.strip().lower() == BLOCKS_LINK:
            blocked = True
    return blocked
