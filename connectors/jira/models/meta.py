"""Site metadata: server info and field definitions."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from connectors.jira.models.common import JiraModel


class JiraServerInfo(JiraModel):
    base_url: str
    version: str | None = None
    version_numbers: list[int] = Field(default_factory=list)
    deployment_type: str | None = None
    build_number: int | None = None
    server_time: AwareDatetime | None = None
    server_title: str | None = None

    @property
    def is_cloud(self) -> bool:
        return self.deployment_type == "Cloud"


class JiraFieldSchema(JiraModel):
    type: str | None = None
    items: str | None = None
    system: str | None = None
    custom: str | None = None
    custom_id: int | None = None


class JiraField(JiraModel):
    """`schema.custom` (e.g. `com.pyxis.greenhopper.jira:gh-sprint`) identifies what a custom field means."""

    id: str
    key: str | None = None
    name: str
    custom: bool = False
    clause_names: list[str] = Field(default_factory=list)
    field_schema: JiraFieldSchema | None = Field(default=None, alias="schema")
