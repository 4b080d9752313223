"""The shapes of the Jira JSON pmbridge maps, as msgspec structs, and the checked readers of its
timestamps; anything else raises `Unusual` so the caller falls back to the wire models.

An issue is decoded into the structs below, which name only the fields pmbridge maps: everything
else in the payload (links to itself, avatars, icons) is skipped without being built, and the
payload is stored as the text it came as. The structs' types are the checks the wire models make;
a payload that does not fit raises, and the caller falls back.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import msgspec

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


# -- the structs of an issue -----------------------------------------------------------------------


class Named(msgspec.Struct):
    """A status, priority, component or link type: its `name` is required."""

    name: str


class _Category(msgspec.Struct):
    key: str


class Status(msgspec.Struct):
    name: str
    statusCategory: _Category | None = None


class IssueType(msgspec.Struct):
    name: str
    subtask: bool = False
    hierarchyLevel: int | None = None


class Ref(msgspec.Struct):
    """Another issue named by a parent or a link."""

    id: str
    key: str


class Version(msgspec.Struct):
    id: str
    name: str


class User(msgspec.Struct):
    accountId: str | None = None
    key: str | None = None
    name: str | None = None
    displayName: str | None = None
    emailAddress: str | None = None


class TimeTracking(msgspec.Struct):
    originalEstimateSeconds: int | None = None
    timeSpentSeconds: int | None = None


class Link(msgspec.Struct):
    type: Named
    inwardIssue: Ref | None = None
    outwardIssue: Ref | None = None


class Project(msgspec.Struct):
    id: str
    key: str


# The standard fields, as (name, type, default) for `msgspec.defstruct`. Timestamps and the due
# date stay text (or anything): `read_datetime` and `read_date` check their form, and only when
# they are used. `custom` is a name the wire model takes for itself: a field of that name goes to
# the models.
_STANDARD_FIELDS: tuple[tuple[str, Any, Any], ...] = (
    ("summary", str | None, None),
    ("issuetype", IssueType | None, None),
    ("status", Status | None, None),
    ("priority", Named | None, None),
    ("assignee", User | None, None),
    ("labels", list[str] | None, None),
    ("components", list[Named] | None, None),
    ("parent", Ref | None, None),
    ("fixVersions", list[Version] | None, None),
    ("duedate", Any, None),
    ("created", Any, None),
    ("updated", Any, None),
    ("resolutiondate", Any, None),
    ("timetracking", TimeTracking | None, None),
    ("timeoriginalestimate", int | None, None),
    ("timespent", int | None, None),
    ("issuelinks", list[Link] | None, None),
    ("project", Project, msgspec.NODEFAULT),
    ("custom", Any, msgspec.UNSET),
)


class _Author(msgspec.Struct):
    displayName: str | None = None


class ChangeItem(msgspec.Struct):
    field: str
    fieldId: str | None = None
    from_: str | None = msgspec.field(default=None, name="from")
    to: str | None = None
    fromString: str | None = None
    toString: str | None = None


class History(msgspec.Struct):
    """One change history of an issue's changelog; `created` is checked by `read_datetime`."""

    id: str
    created: Any = None
    author: _Author | None = None
    items: list[ChangeItem] | None = None


HISTORY_DECODER = msgspec.json.Decoder(History)


def issue_decoder(custom_fields: tuple[str, ...]) -> msgspec.json.Decoder[Any]:
    """A decoder of one issue that reads the standard fields and these custom fields (as any JSON)."""
    fields = msgspec.defstruct(
        "IssueFields",
        [*_STANDARD_FIELDS, *((name, Any, None) for name in custom_fields)],
        kw_only=True,
    )
    issue = msgspec.defstruct("Issue", [("id", str), ("key", str), ("fields", fields)])
    return msgspec.json.Decoder(issue)
