"""Base model and small shapes shared by every Jira wire model."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class JiraModel(BaseModel):
    """Parses only what pmbridge uses; anything else Jira sends is ignored."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True, frozen=True)


class JiraUser(JiraModel):
    """Cloud users carry `accountId`; Data Center users carry `name` and `key` instead."""

    account_id: str | None = None
    name: str | None = None
    key: str | None = None
    display_name: str | None = None
    email_address: str | None = None
    active: bool | None = None

    @property
    def identity(self) -> str | None:
        return self.account_id or self.key or self.name


class JiraEntityProperty(JiraModel):
    key: str
    value: JsonValue = None


class JiraPagedValues(JiraModel, Generic[T]):
    """The `{startAt, maxResults, total, isLast, values}` envelope (project search, agile)."""

    start_at: int | None = None
    max_results: int | None = None
    total: int | None = None
    is_last: bool | None = None
    values: list[T] = Field(default_factory=list)
