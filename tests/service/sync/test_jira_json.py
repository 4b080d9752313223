"""The JSON fast path maps exactly what the wire models and `jira_mapping` map, or falls back to them."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from connectors.jira.models import JiraChangeHistory, JiraField, JiraIssue
from sandbox.emit import CollectingSink
from sandbox.jira.fields import FIELD_BY_ID
from sandbox.jira.render import Renderer
from sandbox.scenarios import build_sandbox
from service.domain.work import JsonText, WorkItem
from service.errors import ProviderDataError
from service.sync.jira_fields import STANDARD_FIELDS, JiraFieldMap, discover_field_map
from service.sync.jira_json import JiraJsonMapper
from service.sync.jira_mapping import issue_sprints, map_histories, map_issue

SOURCE_ID = 7
BROWSE = "https://acme.atlassian.net"


@pytest.fixture(scope="module")
def site() -> tuple[JiraFieldMap, list[dict[str, Any]], list[tuple[str, list[dict[str, Any]]]]]:
    """Every issue and history of a generated site as the API serves them (decoded JSON)."""
    sandbox = build_sandbox(
        "large",
        5,
        now=datetime(2026, 3, 2, tzinfo=UTC),
        sink=CollectingSink(),
        with_trello=False,
        issues_per_project=25,
    )
    world = sandbox.jira
    field_map = discover_field_map(
        [
            JiraField.model_validate(
                {"id": f.id, "name": f.name, "custom": f.id.startswith("customfield_"), "schema": f.schema}
            )
            for f in FIELD_BY_ID.values()
        ]
    )
    renderer = Renderer(world, base_url=BROWSE, api_version="3")
    fields = tuple(f for f in STANDARD_FIELDS + field_map.custom_ids if f in FIELD_BY_ID)
    issues = [
        orjson.loads(orjson.dumps(renderer.issue(issue, fields=fields, expand=set())))
        for issue in world.issues.values()
    ]
    histories = [
        (str(issue.id), orjson.loads(orjson.dumps([renderer.history(h) for h in issue.histories])))
        for issue in world.issues.values()
    ]
    return field_map, issues, histories


def _mapper(field_map: JiraFieldMap) -> JiraJsonMapper:
    return JiraJsonMapper(source_id=SOURCE_ID, field_map=field_map, browse_base=BROWSE)


def _by_models(raw: dict[str, Any], field_map: JiraFieldMap) -> Any:
    return map_issue(
        JiraIssue.model_validate(raw), source_id=SOURCE_ID, field_map=field_map, browse_base=BROWSE
    )


def _text(raw: dict[str, Any]) -> bytes:
    """The issue as a search page carries it."""
    return orjson.dumps(raw)


def _assert_same_item(mapped: WorkItem, expected: WorkItem) -> None:
    """The same item; the fast path keeps the payload as the text Jira sent, the models as a dict."""
    assert replace(mapped, raw={}) == replace(expected, raw={})
    payload = orjson.loads(str(mapped.raw)) if isinstance(mapped.raw, JsonText) else mapped.raw
    assert payload == expected.raw


def test_every_generated_issue_maps_as_the_wire_models_map_it(
    site: tuple[JiraFieldMap, list[dict[str, Any]], list[tuple[str, list[dict[str, Any]]]]],
) -> None:
    field_map, issues, _ = site
    mapper = _mapper(field_map)
    assert field_map.sprint and field_map.story_points and field_map.flagged
    assert any(issue["fields"].get(field_map.sprint) for issue in issues)
    for raw in issues:
        text = _text(raw)
        mapped = mapper.issue(text)
        _assert_same_item(mapped.item, _by_models(raw, field_map))
        assert mapped.sprints == tuple(issue_sprints(JiraIssue.model_validate(raw), field_map))
        # Taken by the fast path, which stores the payload exactly as it came.
        assert type(mapped.item.raw) is JsonText
        assert mapped.item.raw.encode() == text


def test_every_generated_history_maps_as_the_wire_models_map_it(
    site: tuple[JiraFieldMap, list[dict[str, Any]], list[tuple[str, list[dict[str, Any]]]]],
) -> None:
    field_map, _, histories = site
    mapper = _mapper(field_map)
    assert sum(len(entries) for _, entries in histories) > 50
    for issue_id, entries in histories:
        expected = map_histories(
            issue_id,
            [JiraChangeHistory.model_validate(h) for h in entries],
            source_id=SOURCE_ID,
            field_map=field_map,
        )
        assert mapper.histories(issue_id, [orjson.dumps(h) for h in entries]) == expected


def _issue(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "summary": "Ship it",
        "project": {"id": "10000", "key": "ACME"},
        "created": "2026-02-01T10:00:00.000+0000",
        "updated": "2026-02-03T10:00:00.000+0100",
        "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
        "issuetype": {"name": "Story", "subtask": False},
        "labels": ["client-visible"],
        "timetracking": {"originalEstimateSeconds": 7200, "timeSpentSeconds": 3600},
    }
    base.update(fields)
    return {"id": "20001", "key": "ACME-1", "fields": base}


UNUSUAL_SHAPES = [
    pytest.param({"timeoriginalestimate": "3600"}, id="number-as-string"),
    pytest.param({"created": "2026-02-01T10:00:00+00:00"}, id="iso-without-millis"),
    pytest.param({"updated": 1767261600000}, id="epoch-millis"),
    pytest.param({"duedate": "2026-03-01T00:00:00"}, id="date-with-time"),
    pytest.param(
        {"labels": None, "components": None, "fixVersions": None, "issuelinks": None}, id="null-lists"
    ),
    pytest.param({"issuetype": {"name": "Sub-task", "subtask": "true"}}, id="bool-as-string"),
    pytest.param({"assignee": {"key": "dana", "name": "dana"}}, id="data-center-user"),
    pytest.param({"custom": {"customfield_1": 5}}, id="field-named-custom"),
    pytest.param(
        {"issuelinks": [{"type": {"name": "Blocks"}, "inwardIssue": {"id": "2", "key": "ACME-2"}}]},
        id="blocked-by-link",
    ),
]


@pytest.mark.parametrize("fields", UNUSUAL_SHAPES)
def test_unusual_shapes_give_the_wire_models_result(fields: dict[str, Any]) -> None:
    field_map = JiraFieldMap(story_points="customfield_1")
    raw = _issue(**fields)

    _assert_same_item(_mapper(field_map).issue(_text(raw)).item, _by_models(copy.deepcopy(raw), field_map))


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"labels": [1]}, id="label-not-a-string"),
        pytest.param({"created": "yesterday"}, id="bad-date"),
        pytest.param({"status": {"statusCategory": {"key": "done"}}}, id="status-without-name"),
    ],
)
def test_shapes_the_wire_models_refuse_are_provider_data_errors(fields: dict[str, Any]) -> None:
    with pytest.raises(ProviderDataError):
        _mapper(JiraFieldMap()).issue(_text(_issue(**fields)))


def test_an_issue_without_project_is_refused_as_by_the_wire_models() -> None:
    raw = _issue()
    del raw["fields"]["project"]

    with pytest.raises(ProviderDataError, match="lacks project"):
        _mapper(JiraFieldMap()).issue(_text(raw))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b'{"id": 20001, "key": "ACME-1", "fields": {}}', id="numeric-id"),
        pytest.param(b"7", id="not-an-object"),
    ],
)
def test_an_issue_the_wire_models_refuse_is_a_provider_data_error(text: bytes) -> None:
    with pytest.raises(ProviderDataError, match="unexpected shape"):
        _mapper(JiraFieldMap()).issue(text)


def test_an_issue_that_is_not_json_is_refused() -> None:
    with pytest.raises(ProviderDataError, match="not JSON"):
        _mapper(JiraFieldMap()).issue(b'{"id": "1", "key": ')


def test_a_history_in_an_unusual_shape_falls_back_and_a_broken_one_is_refused() -> None:
    mapper = _mapper(JiraFieldMap())
    epoch = {"id": "5", "created": 1767261600000, "items": [{"field": "status", "from": "1", "to": "2"}]}

    changes = mapper.histories("20001", [orjson.dumps(epoch)])

    assert [c.external_id for c in changes] == ["5:0"]
    assert changes[0].changed_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    with pytest.raises(ProviderDataError):
        mapper.histories(
            "20001", [orjson.dumps({"id": "6", "created": "2026-01-01T00:00:00.000+0000", "items": [{}]})]
        )
    with pytest.raises(ProviderDataError, match="not JSON"):
        mapper.histories("20001", [b'{"id": "7", '])


def test_changelog_fields_get_the_rules_vocabulary() -> None:
    field_map = JiraFieldMap(sprint="customfield_10020", flagged="customfield_10021")
    history = {
        "id": "9",
        "created": "2026-01-01T00:00:00.000+0000",
        "items": [
            {"field": "Sprint", "fieldId": "customfield_10020", "from": None, "to": "3"},
            {"field": "duedate", "fieldId": "duedate", "from": None, "to": "2026-02-01"},
            {"field": "Flagged", "fieldId": "customfield_10021"},
            {"field": "status"},
        ],
    }
    expected = ["sprint", "promised_date", "flagged", "status"]

    assert [c.field for c in _mapper(field_map).histories("1", [orjson.dumps(history)])] == expected
    models = [JiraChangeHistory.model_validate(history)]
    assert [c.field for c in map_histories("1", models, source_id=SOURCE_ID, field_map=field_map)] == expected
    assert field_map.semantic_names() == {
        "customfield_10020": "sprint",
        "customfield_10021": "flagged",
        "duedate": "promised_date",
    }
