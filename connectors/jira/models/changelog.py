"""Changelog shapes: embedded in an issue, the paged per-issue endpoint, and bulk fetch.

Item values are strings or null; a due-date change carries `from/to` "2026-06-05" while
`fromString/toString` may read "2026-06-05 00:00:00.0", so both are kept as given. The bulk endpoint's
OpenAPI example shows `created` as epoch milliseconds while the paged endpoint returns ISO strings;
both parse into an aware datetime.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from connectors.jira.models.common import JiraModel, JiraUser


class JiraChangeItem(JiraModel):
    field: str
    fieldtype: str | None = None
    field_id: str | None = None
    from_value: str | None = Field(default=None, alias="from")
    from_string: str | None = None
    to_value: str | None = Field(default=None, alias="to")
    to_string: str | None = None


class JiraChangeHistory(JiraModel):
    id: str
    author: JiraUser | None = None
    created: AwareDatetime
    items: list[JiraChangeItem] = Field(default_factory=list)


class JiraChangelog(JiraModel):
    """`expand=changelog` returns only a recent slice; compare `total` with `histories` before trusting it."""

    start_at: int = 0
    max_results: int | None = None
    total: int | None = None
    histories: list[JiraChangeHistory] = Field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return self.total is None or (self.start_at == 0 and len(self.histories) >= self.total)


class JiraChangelogPage(JiraModel):
    """`GET /rest/api/3/issue/{key}/changelog`: oldest first, at most 100 a page."""

    start_at: int = 0
    max_results: int | None = None
    total: int | None = None
    is_last: bool | None = None
    values: list[JiraChangeHistory] = Field(default_factory=list)


class JiraIssueChangelog(JiraModel):
    issue_id: str
    change_histories: list[JiraChangeHistory] = Field(default_factory=list)


class JiraBulkChangelogPage(JiraModel):
    """`POST /rest/api/3/changelog/bulkfetch`; `nextPageToken` is absent on the last page."""

    issue_change_logs: list[JiraIssueChangelog] = Field(default_factory=list)
    next_page_token: str | None = None
