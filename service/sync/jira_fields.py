"""Which Jira custom fields mean what on one site, discovered by schema (ids differ per site)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from connectors.jira.models import JiraField
from service.errors import InvalidInputError

# schema.custom values: ../shared/reference/jira-cloud-api.md §3 (custom fields).
SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
STORY_POINTS_SCHEMAS = ("com.pyxis.greenhopper.jira:jsw-story-points",)
FLOAT_SCHEMA = "com.atlassian.jira.plugin.system.customfieldtypes:float"
DATE_SCHEMAS = (
    "com.atlassian.jira.plugin.system.customfieldtypes:datepicker",
    "com.atlassian.jpo:jpo-custom-field-baseline-start",
)
STORY_POINT_NAMES = ("story points", "story point estimate")
START_DATE_NAMES = ("start date", "target start")
FLAGGED_NAME = "flagged"

# The standard fields pmbridge maps; custom ones are added per site.
STANDARD_FIELDS = (
    "summary",
    "issuetype",
    "status",
    "priority",
    "assignee",
    "labels",
    "components",
    "parent",
    "fixVersions",
    "duedate",
    "created",
    "updated",
    "resolutiondate",
    "timetracking",
    "timeoriginalestimate",
    "timespent",
    "issuelinks",
    "project",
)


@dataclass(frozen=True, slots=True)
class JiraFieldMap:
    """Custom field ids of one site, and the field holding the date promised to clients."""

    story_points: str | None = None
    sprint: str | None = None
    flagged: str | None = None
    start_date: str | None = None
    # "duedate" unless the operator chose a custom date field (by id) as the promised date.
    promised_date: str = "duedate"

    @property
    def custom_ids(self) -> tuple[str, ...]:
        ids = (self.story_points, self.sprint, self.flagged, self.start_date, self.promised_date)
        return tuple(dict.fromkeys(i for i in ids if i and i.startswith("customfield_")))

    @property
    def search_fields(self) -> tuple[str, ...]:
        return STANDARD_FIELDS + self.custom_ids

    def semantic_name(self, field_id: str) -> str:
        """Changelog field ids in the vocabulary the rules use (`sprint`, `flagged`, …)."""
        return _semantic_names(self).get(field_id, field_id)

    def semantic_names(self) -> dict[str, str]:
        """`semantic_name` as a mapping of the ids that get another name (a copy: callers may keep it)."""
        return dict(_semantic_names(self))

    def to_settings(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_settings(cls, value: dict[str, Any]) -> JiraFieldMap:
        known = {k: v for k, v in value.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@functools.cache
def _semantic_names(field_map: JiraFieldMap) -> dict[str, str]:
    names = {
        field_id: name
        for field_id, name in (
            (field_map.story_points, "story_points"),
            (field_map.sprint, "sprint"),
            (field_map.flagged, "flagged"),
            (field_map.start_date, "start_date"),
        )
        if field_id
    }
    names[field_map.promised_date] = "promised_date"
    return names


def discover_field_map(fields: Sequence[JiraField], *, promised_date: str | None = None) -> JiraFieldMap:
    """Pick custom fields by schema first, then by name; `promised_date` may be an id or a name."""
    by_schema: dict[str, list[JiraField]] = {}
    for field in fields:
        schema = field.field_schema.custom if field.field_schema else None
        if schema:
            by_schema.setdefault(schema, []).append(field)

    def first(schemas: Sequence[str], names: Sequence[str] = ()) -> str | None:
        for schema in schemas:
            for field in by_schema.get(schema, []):
                if not names or field.name.strip().lower() in names:
                    return field.id
        return None

    story_points = first(STORY_POINTS_SCHEMAS) or first((FLOAT_SCHEMA,), STORY_POINT_NAMES)
    flagged = next((f.id for f in fields if f.custom and f.name.strip().lower() == FLAGGED_NAME), None)
    return JiraFieldMap(
        story_points=story_points,
        sprint=first((SPRINT_SCHEMA,)),
        flagged=flagged,
        start_date=first(DATE_SCHEMAS, START_DATE_NAMES),
        promised_date=_resolve_promised_field(fields, promised_date),
    )


def _resolve_promised_field(fields: Sequence[JiraField], wanted: str | None) -> str:
    if not wanted or wanted == "duedate":
        return "duedate"
    for field in fields:
        if wanted in (field.id, field.key) or field.name.strip().lower() == wanted.strip().lower():
            return field.id
    raise InvalidInputError(f"no Jira field named {wanted!r} on this site", details={"field": wanted})
