"""Trello wire models to the normalized model, from recorded payloads."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.trello.models import TrelloAction, TrelloBoard, TrelloCard
from service.domain.enums import ItemKind, MilestoneKind, Priority, StatusCategory
from service.errors import ConfigurationError
from service.sync.trello_mapping import BoardContext, card_milestone, map_action_changes, map_board, map_card
from service.sync.trello_settings import TrelloSyncSettings

FIXTURES = Path(__file__).resolve().parents[2] / "connectors" / "trello" / "fixtures"
DOING = "60a1b2c3d4e5f60718293a51"
OLD_LIST = "60a1b2c3d4e5f60718293a52"


def board() -> TrelloBoard:
    return TrelloBoard.model_validate_json((FIXTURES / "api" / "board_full.json").read_bytes())


def card(**changes: Any) -> TrelloCard:
    raw = json.loads((FIXTURES / "api" / "card_full.json").read_bytes())
    raw.update(changes)
    return TrelloCard.model_validate(raw)


def action(name: str) -> TrelloAction:
    return TrelloAction.model_validate(
        json.loads((FIXTURES / "webhooks" / f"{name}.json").read_bytes())["action"]
    )


def context(**settings: Any) -> BoardContext:
    return BoardContext.of(board(), TrelloSyncSettings.from_settings(settings))


SPENT_FIELD = "60a1b2c3d4e5f60718293a74"
ESTIMATE_FIELD = "60a1b2c3d4e5f60718293a73"


def board_with_spent_field() -> TrelloBoard:
    raw = json.loads((FIXTURES / "api" / "board_full.json").read_bytes())
    raw["customFields"].append({"id": SPENT_FIELD, "name": "Time spent (h)", "type": "number", "pos": 49152})
    return TrelloBoard.model_validate(raw)


def card_with_spent(hours: str | None) -> TrelloCard:
    raw = json.loads((FIXTURES / "api" / "card_full.json").read_bytes())
    if hours is not None:
        raw["customFieldItems"].append(
            {"id": "65a7d0aa1f2e3d4c5b6a79a2", "value": {"number": hours}, "idCustomField": SPENT_FIELD}
        )
    return TrelloCard.model_validate(raw)


def effort_of(hours: str | None, **settings: Any) -> tuple[int | None, int | None]:
    board_context = BoardContext.of(board_with_spent_field(), TrelloSyncSettings.from_settings(settings))
    item = map_card(card_with_spent(hours), context=board_context, source_id=1)
    return item.spent_seconds, item.estimate_seconds


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, (None, None)),
        ({"spent_field": "time SPENT (h)"}, (9000, None)),
        ({"spent_field": SPENT_FIELD, "estimate_field": "Estimate"}, (9000, 18000)),
        ({"estimate_field": ESTIMATE_FIELD}, (None, 18000)),
        ({"spent_field": "Priority", "estimate_field": "No such field"}, (None, None)),
    ],
    ids=["unmapped", "spent-by-name", "both-by-id-and-name", "estimate-by-id", "not-number-fields"],
)
def test_map_card_effort_from_the_mapped_custom_fields_in_hours(
    settings: dict[str, Any], expected: tuple[int | None, int | None]
) -> None:
    assert effort_of("2.5", **settings) == expected


@pytest.mark.parametrize(
    "hours", [None, "-1", "abc", "inf"], ids=["no-value", "negative", "not-a-number", "infinite"]
)
def test_map_card_effort_without_a_usable_value_is_unknown(hours: str | None) -> None:
    assert effort_of(hours, spent_field="Time spent (h)") == (None, None)


def test_map_board_keys_the_project_by_short_link() -> None:
    project = map_board(board(), source_id=1)

    assert (project.external_id, project.key, project.name) == (
        "60a1b2c3d4e5f60718293a4b",
        "aBcD1234",
        "Acme Website",
    )


def test_map_card_maps_every_field_the_model_keeps() -> None:
    item = map_card(card(), context=context(), source_id=1)

    assert (item.key, item.kind, item.title, item.status, item.status_category) == (
        "aBcD1234-42",
        ItemKind.CARD,
        "Launch landing page",
        "Doing",
        StatusCategory.IN_PROGRESS,
    )
    assert (item.due_date, item.start_date) == (date(2024, 2, 15), date(2024, 1, 15))
    assert item.assignee is not None and item.assignee.display_name == "Dana Scully"
    assert (item.labels, item.blocked, item.priority) == (("Blocked",), True, Priority.HIGH)
    assert item.updated_at == datetime(2024, 1, 18, 9, tzinfo=UTC)
    assert item.raw["pmbridge"]["checklist"] == {"checked": 1, "total": 2}
    assert item.raw["pmbridge"]["custom_fields"] == {"Priority": "High", "Estimate": 5.0}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, StatusCategory.IN_PROGRESS),
        ({"list_categories": {"60a1b2c3d4e5f60718293a4b": {DOING: "done"}}}, StatusCategory.DONE),
        (
            {"list_categories": {"60a1b2c3d4e5f60718293a4b": {"60a1b2c3d4e5f60718293a50": "done"}}},
            StatusCategory.IN_PROGRESS,
        ),
    ],
    ids=["from-list-name", "override", "override-of-another-list"],
)
def test_map_card_category_follows_the_board_mapping(
    settings: dict[str, Any], expected: StatusCategory
) -> None:
    item = map_card(card(), context=context(**settings), source_id=1)

    assert item.status_category is expected


@pytest.mark.parametrize(
    ("archived_is_done", "expected"),
    [(False, StatusCategory.IN_PROGRESS), (True, StatusCategory.DONE)],
    ids=["kept-by-default", "archived-is-done"],
)
def test_map_card_archived_card_stays_visible_with_its_state_recorded(
    archived_is_done: bool, expected: StatusCategory
) -> None:
    item = map_card(card(closed=True), context=context(archived_is_done=archived_is_done), source_id=1)

    assert (item.visibility.value, item.status_category, item.raw["pmbridge"]["archived"]) == (
        "visible",
        expected,
        True,
    )


def test_map_card_in_an_archived_list_records_it() -> None:
    item = map_card(card(idList=OLD_LIST), context=context(), source_id=1)

    assert (item.status, item.raw["pmbridge"]["list_archived"]) == ("Old", True)


def test_map_card_blocked_labels_are_configurable() -> None:
    item = map_card(card(), context=context(blocked_labels=["impeded"]), source_id=1)

    assert item.blocked is False


def test_card_milestone_for_a_card_labelled_as_one() -> None:
    ctx = context(milestone_labels=["blocked"])
    labelled = card(dueComplete=True)

    milestone = card_milestone(map_card(labelled, context=ctx, source_id=1), labelled, context=ctx)

    assert milestone is not None
    assert (milestone.external_id, milestone.kind, milestone.due_date, milestone.released) == (
        "card:65a7d0aa1f2e3d4c5b6a7980",
        MilestoneKind.CARD,
        date(2024, 2, 15),
        True,
    )


def test_card_milestone_none_for_other_cards() -> None:
    ctx = context()
    plain = card()

    assert card_milestone(map_card(plain, context=ctx, source_id=1), plain, context=ctx) is None


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("card_due_changed", [("promised_date", "2024-02-01", "2024-02-15")]),
        ("card_moved_list", [("status", "60a1b2c3d4e5f60718293a50", DOING)]),
        ("card_archived", [("closed", "false", "true")]),
        ("card_created", []),
        ("comment_added", []),
    ],
    ids=["due-moved", "list-moved", "archived", "created", "comment"],
)
def test_map_action_changes_in_the_rules_vocabulary(
    fixture: str, expected: list[tuple[str, str | None, str | None]]
) -> None:
    changes = map_action_changes(action(fixture), source_id=1)

    assert [(c.field, c.from_value, c.to_value) for c in changes] == expected
    assert all(c.external_id == action(fixture).id for c in changes)


def test_map_action_changes_list_names_are_the_display() -> None:
    (change,) = map_action_changes(action("card_moved_list"), source_id=1)

    assert (change.from_display, change.to_display) == ("To do", "Doing")


def test_map_action_changes_several_in_one_action_are_numbered() -> None:
    raw = json.loads((FIXTURES / "webhooks" / "card_due_changed.json").read_bytes())["action"]
    raw["data"]["old"]["dueComplete"] = True
    raw["data"]["card"]["dueComplete"] = False

    changes = map_action_changes(TrelloAction.model_validate(raw), source_id=1)

    assert [(c.external_id, c.field) for c in changes] == [
        (f"{raw['id']}:0", "promised_date"),
        (f"{raw['id']}:1", "due_complete"),
    ]


@pytest.mark.parametrize(
    "settings",
    [
        {"board_ids": ["not-an-id"]},
        {"list_categories": {"60a1b2c3d4e5f60718293a4b": {DOING: "finished"}}},
        {"blocked_labels": "blocked"},
        {"spent_field": ""},
        {"estimate_field": 8},
        {"spent_field": "x" * 201},
    ],
    ids=[
        "board-id",
        "category",
        "labels",
        "spent-field-empty",
        "estimate-field-not-text",
        "spent-field-long",
    ],
)
def test_trello_settings_invalid_values_raise(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        TrelloSyncSettings.from_settings(settings)
