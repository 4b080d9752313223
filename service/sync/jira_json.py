"""Jira issues and change histories mapped straight from their JSON, for full and bulk syncs.

Validating a search page into wire models cost ~140 µs an issue. An issue is decoded instead into
structs of the few fields pmbridge maps (`connectors.jira.models.structs`), skipping the rest of the payload,
which is stored as the text Jira sent; histories are read from decoded dicts. Every value read is
checked to have the type the wire model gives it; a shape this fast path does not know (a string
where a number was expected, an odd date format) falls back to the wire models and
`jira_mapping`, so the result, or the error, is theirs. Fields that are not mapped are not
validated at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson
from pydantic import ValidationError

from connectors.jira.models import (
    CUSTOM_FIELD_PREFIX,
    JiraChangeHistory,
    JiraIssue,
    JiraSprint,
    sprints_from_field,
)
from connectors.jira.models.structs import (
    HISTORY_DECODER,
    Unusual,
    issue_decoder,
    optional_datetime,
    read_date,
    read_datetime,
)
from service.domain.work import Change, JsonText, WorkItem, priority_from_name, sprint_milestone_id
from service.errors import ProviderDataError
from service.sync.jira_fields import JiraFieldMap
from service.sync.jira_json_values import (
    custom_date,
    custom_number,
    is_blocked,
    kind_of,
    person_of,
    status_of,
)
from service.sync.jira_mapping import (
    issue_sprints,
    map_histories,
    map_issue,
    version_milestone_id,
)

_SPRINT_CACHE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class MappedIssue:
    """An issue ready to write, the sprints it names, and its wire model when one was built."""

    item: WorkItem
    sprints: tuple[JiraSprint, ...]
    issue: JiraIssue | None = None


class JiraJsonMapper:
    """Maps the JSON text of issues and change histories of one source; keeps the parsed sprint values
    it has seen."""

    def __init__(self, *, source_id: int, field_map: JiraFieldMap, browse_base: str) -> None:
        self._source_id = source_id
        self._field_map = field_map
        self._browse_base = browse_base
        self._names = field_map.semantic_names()
        self._sprints: dict[bytes, tuple[JiraSprint, ...]] = {}
        # The custom fields the map names, read as any JSON; the wire model reads only these too.
        self._custom = {
            role: field_id if field_id and field_id.startswith(CUSTOM_FIELD_PREFIX) else None
            for role, field_id in (
                ("sprint", field_map.sprint),
                ("story_points", field_map.story_points),
                ("flagged", field_map.flagged),
                ("start_date", field_map.start_date),
                ("promised_date", field_map.promised_date),
            )
        }
        self._decoder = issue_decoder(tuple(sorted({f for f in self._custom.values() if f is not None})))

    # -- issues ----------------------------------------------------------------------------------

    def issue(self, raw: bytes) -> MappedIssue:
        """An issue of a search page, as the JSON text Jira sent."""
        try:
            return self._fast_issue(raw)
        except (Unusual, msgspec.DecodeError, UnicodeDecodeError):
            pass
        try:
            decoded = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ProviderDataError("an issue of a search page is not JSON", details={}) from None
        try:
            issue = JiraIssue.model_validate(decoded)
        except ValidationError as exc:
            key = decoded.get("key") if isinstance(decoded, dict) else None
            raise ProviderDataError(
                f"issue {key} has an unexpected shape ({exc.error_count()} validation errors)",
                details={"issue": str(key)},
            ) from None
        item = map_issue(
            issue, source_id=self._source_id, field_map=self._field_map, browse_base=self._browse_base
        )
        return MappedIssue(item=item, sprints=tuple(issue_sprints(issue, self._field_map)))

    def _fast_issue(self, raw: bytes) -> MappedIssue:
        issue = self._decoder.decode(raw)
        fields = issue.fields
        if fields.custom is not msgspec.UNSET:
            raise Unusual
        custom = self._custom
        created = read_datetime(fields.created)
        updated = read_datetime(fields.updated)
        status_name, category = status_of(fields.status)
        labels = tuple(fields.labels or ())
        sprints = self._issue_sprints(_custom(fields, custom["sprint"]))
        milestones = [version_milestone_id(v.id) for v in fields.fixVersions or ()]
        milestones += [sprint_milestone_id(s.id) for s in sprints]
        tracking = fields.timetracking
        estimate = fields.timeoriginalestimate
        spent = fields.timespent
        if estimate is None and tracking:
            estimate = tracking.originalEstimateSeconds
        if spent is None and tracking:
            spent = tracking.timeSpentSeconds
        if self._field_map.promised_date == "duedate":
            due = read_date(fields.duedate)
        else:
            due = custom_date(_custom(fields, custom["promised_date"]))
        blocked = is_blocked(_custom(fields, custom["flagged"]), status_name, labels, fields.issuelinks)
        priority = fields.priority
        parent = fields.parent
        key = issue.key
        item = WorkItem(
            source_id=self._source_id,
            project_external_id=fields.project.id,
            external_id=issue.id,
            key=key,
            title=fields.summary or "",
            kind=kind_of(fields.issuetype),
            status=status_name,
            status_category=category,
            priority=priority_from_name(priority.name if priority is not None else None),
            assignee=person_of(fields.assignee),
            labels=labels,
            components=tuple(component.name for component in fields.components or ()),
            parent_external_id=parent.id if parent is not None else None,
            milestone_external_ids=tuple(dict.fromkeys(milestones)),
            due_date=due,
            start_date=custom_date(_custom(fields, custom["start_date"])),
            created_at=created,
            updated_at=updated,
            resolved_at=optional_datetime(fields.resolutiondate),
            estimate_seconds=estimate,
            spent_seconds=spent,
            story_points=custom_number(_custom(fields, custom["story_points"])),
            blocked=blocked,
            url=f"{self._browse_base}/browse/{key}",
            raw=JsonText(raw.decode()),
        )
        return MappedIssue(item=item, sprints=sprints)

    def _issue_sprints(self, value: Any) -> tuple[JiraSprint, ...]:
        if value is None:
            return ()
        # The same few sprints repeat on every issue: validate each distinct value once.
        cache_key = orjson.dumps(value)
        found = self._sprints.get(cache_key)
        if found is None:
            if len(self._sprints) >= _SPRINT_CACHE_LIMIT:
                self._sprints.clear()
            found = tuple(sprints_from_field(value))
            self._sprints[cache_key] = found
        return found

    # -- histories -------------------------------------------------------------------------------

    def histories(self, issue_id: str, histories: Iterable[bytes]) -> list[Change]:
        """One Change per changelog item, keyed `<history id>:<item index>` (as `map_histories`), from
        each history's JSON text."""
        changes: list[Change] = []
        for history in histories:
            try:
                changes += self._fast_history(issue_id, history)
            except (Unusual, msgspec.DecodeError):
                try:
                    decoded = orjson.loads(history)
                except orjson.JSONDecodeError:
                    raise ProviderDataError(
                        f"a change history of issue {issue_id} is not JSON", details={"issue": issue_id}
                    ) from None
                changes += self._slow_history(issue_id, decoded)
        return changes

    def _fast_history(self, issue_id: str, raw: bytes) -> list[Change]:
        history = HISTORY_DECODER.decode(raw)
        created = read_datetime(history.created)
        items = history.items
        if not items:
            return []
        author = history.author.displayName if history.author is not None else None
        prefix = f"{history.id}:"
        source_id = self._source_id
        names = self._names
        changes: list[Change] = []
        for index, item in enumerate(items):
            field_id = item.fieldId or item.field
            changes.append(
                Change(
                    source_id=source_id,
                    item_external_id=issue_id,
                    external_id=f"{prefix}{index}",
                    field=names.get(field_id, field_id),
                    from_value=item.from_,
                    to_value=item.to,
                    from_display=item.fromString,
                    to_display=item.toString,
                    author=author,
                    changed_at=created,
                )
            )
        return changes

    def _slow_history(self, issue_id: str, history: dict[str, Any]) -> list[Change]:
        try:
            parsed = JiraChangeHistory.model_validate(history)
        except ValidationError as exc:
            raise ProviderDataError(
                f"a change history of issue {issue_id} has an unexpected shape "
                f"({exc.error_count()} validation errors)",
                details={"issue": issue_id},
            ) from None
        return map_histories(issue_id, [parsed], source_id=self._source_id, field_map=self._field_map)


def _custom(fields: Any, field_id: str | None) -> Any:
    return None if field_id is None else getattr(fields, field_id)
