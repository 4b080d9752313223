"""The site's field catalog (GET /field) and parsing of the `fields` request parameter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.jira.model import (
    FLAGGED_FIELD,
    RANK_FIELD,
    SPRINT_FIELD,
    START_DATE_FIELD,
    STORY_POINTS_FIELD,
)


@dataclass(frozen=True, slots=True)
class FieldDef:
    id: str
    name: str
    schema: dict[str, Any]
    clause_names: tuple[str, ...]
    navigable: bool = True
    orderable: bool = True

    @property
    def custom(self) -> bool:
        return self.id.startswith("customfield_")


def _system(
    id_: str, name: str, type_: str, *clauses: str, navigable: bool = True, items: str | None = None
) -> FieldDef:
    schema: dict[str, Any] = {"type": type_, "system": id_}
    if items:
        schema["items"] = items
    return FieldDef(id_, name, schema, clauses or (id_,), navigable=navigable)


def _custom(id_: str, name: str, type_: str, custom: str, *, items: str | None = None) -> FieldDef:
    custom_id = int(id_.rsplit("_", 1)[1])
    schema: dict[str, Any] = {"type": type_, "custom": custom, "customId": custom_id}
    if items:
        schema["items"] = items
    return FieldDef(id_, name, schema, (f"cf[{custom_id}]", name))


FIELDS: tuple[FieldDef, ...] = (
    _system("summary", "Summary", "string"),
    _system("status", "Status", "status"),
    _system("issuetype", "Issue Type", "issuetype", "issuetype", "type"),
    _system("priority", "Priority", "priority"),
    _system("project", "Project", "project"),
    _system("assignee", "Assignee", "user"),
    _system("reporter", "Reporter", "user"),
    _system("creator", "Creator", "user"),
    _system("created", "Created", "datetime", "created", "createdDate"),
    _system("updated", "Updated", "datetime", "updated", "updatedDate"),
    _system("resolutiondate", "Resolved", "datetime", "resolutiondate", "resolved"),
    _system("resolution", "Resolution", "resolution"),
    _system("statuscategorychangedate", "Status Category Changed", "datetime", "statusCategoryChangedDate"),
    _system("duedate", "Due date", "date", "due", "duedate"),
    _system("description", "Description", "string"),
    _system("labels", "Labels", "array", items="string"),
    _system("components", "Components", "array", "component", items="component"),
    _system("fixVersions", "Fix versions", "array", "fixVersion", items="version"),
    _system("versions", "Affects versions", "array", "affectedVersion", items="version"),
    _system("parent", "Parent", "issuelink", "parent"),
    _system("subtasks", "Sub-tasks", "array", "subtasks", items="issuelinks"),
    _system("issuelinks", "Linked Issues", "array", "issueLink", items="issuelinks"),
    _system("timetracking", "Time tracking", "timetracking", navigable=False),
    _system("timeoriginalestimate", "Original estimate", "number", "originalEstimate"),
    _system("timeestimate", "Remaining Estimate", "number", "remainingEstimate"),
    _system("timespent", "Time Spent", "number", "timespent"),
    _system("aggregatetimeoriginalestimate", "Σ Original Estimate", "number"),
    _system("aggregatetimeestimate", "Σ Remaining Estimate", "number"),
    _system("aggregatetimespent", "Σ Time Spent", "number"),
    _system("progress", "Progress", "progress"),
    _system("aggregateprogress", "Σ Progress", "progress"),
    _system("comment", "Comment", "comments-page", navigable=False),
    _system("worklog", "Log Work", "array", navigable=False, items="worklog"),
    _system("watches", "Watchers", "watches"),
    _system("votes", "Votes", "votes"),
    _system("environment", "Environment", "string"),
    _custom(
        START_DATE_FIELD, "Start date", "date", "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"
    ),
    _custom(
        STORY_POINTS_FIELD, "Story point estimate", "number", "com.pyxis.greenhopper.jira:jsw-story-points"
    ),
    _custom(RANK_FIELD, "Rank", "any", "com.pyxis.greenhopper.jira:gh-lexo-rank"),
    _custom(SPRINT_FIELD, "Sprint", "array", "com.pyxis.greenhopper.jira:gh-sprint", items="json"),
    _custom(
        FLAGGED_FIELD,
        "Flagged",
        "array",
        "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes",
        items="option",
    ),
)
FIELD_BY_ID = {f.id: f for f in FIELDS}
ALL_FIELD_IDS = tuple(f.id for f in FIELDS)
NAVIGABLE_FIELD_IDS = tuple(f.id for f in FIELDS if f.navigable)
_FIELD_ALIAS = {alias.lower(): f.id for f in FIELDS for alias in (*f.clause_names, f.id, f.name)}


def field_catalog() -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "key": f.id,
            "name": f.name,
            "custom": f.custom,
            "orderable": f.orderable,
            "navigable": f.navigable,
            "searchable": True,
            "clauseNames": list(f.clause_names),
            "schema": f.schema,
        }
        for f in FIELDS
    ]


def select_fields(requested: Iterable[str] | None, *, default: str) -> tuple[str, ...]:
    """Field ids to return for a `fields` parameter: ids, `*all`, `*navigable`, `-id` exclusions.

    Search defaults to `id` only (no fields), GET issue to `*all` (reference §2).
    """
    tokens = [t.strip() for item in (requested or []) for t in item.split(",") if t.strip()]
    if not tokens:
        tokens = [default]
    chosen: list[str] = []
    excluded: set[str] = set()
    for item in tokens:
        if item.startswith("-"):
            excluded.add(_FIELD_ALIAS.get(item[1:].lower(), item[1:]))
        elif item == "*all":
            chosen.extend(ALL_FIELD_IDS)
        elif item == "*navigable":
            chosen.extend(NAVIGABLE_FIELD_IDS)
        elif item in ("id", "key", "none", "*none"):
            continue
        else:
            field_id = _FIELD_ALIAS.get(item.lower())
            if field_id is not None:
                chosen.append(field_id)
    seen: dict[str, None] = {}
    for field_id in chosen:
        if field_id not in excluded:
            seen[field_id] = None
    return tuple(seen)
