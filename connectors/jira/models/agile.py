"""Jira Software boards and sprints (`/rest/agile/1.0`)."""

from __future__ import annotations

from pydantic import AwareDatetime, JsonValue, TypeAdapter, ValidationError

from connectors.jira.models.common import JiraModel


class JiraBoardLocation(JiraModel):
    project_id: int | None = None
    project_key: str | None = None


class JiraBoard(JiraModel):
    id: int
    name: str
    type: str | None = None
    location: JiraBoardLocation | None = None


class JiraSprint(JiraModel):
    """Agile resource and Sprint custom field share this shape; the field value uses `boardId`."""

    id: int
    name: str
    state: str | None = None
    goal: str | None = None
    start_date: AwareDatetime | None = None
    end_date: AwareDatetime | None = None
    complete_date: AwareDatetime | None = None
    origin_board_id: int | None = None
    board_id: int | None = None


_SPRINT_ITEM = TypeAdapter(JiraSprint)


def sprints_from_field(value: JsonValue) -> list[JiraSprint]:
    """Sprints held in a `com.pyxis.greenhopper.jira:gh-sprint` custom field value (null or a list).

    Items that are not sprint objects (old Server instances serialised sprints as strings) are skipped.
    """
    if not isinstance(value, list):
        return []
    sprints: list[JiraSprint] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        try:
            sprints.append(_SPRINT_ITEM.validate_python(item))
        except ValidationError:
            continue
    return sprints
