"""Comments: ADF bodies on v3, plain/wiki strings on v2, Data Center and in webhooks; an issue's
embedded `comment` field read without them."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from connectors.jira.adf import AdfNode
from connectors.jira.models.common import JiraEntityProperty, JiraModel, JiraUser


class JiraVisibility(JiraModel):
    type: str
    value: str | None = None
    identifier: str | None = None


class JiraCommentStamp(JiraModel):
    """A comment less its body: who wrote and last edited it, and when."""

    id: str
    author: JiraUser | None = None
    update_author: JiraUser | None = None
    created: AwareDatetime | None = None
    updated: AwareDatetime | None = None


class JiraComment(JiraCommentStamp):
    body: AdfNode | str | None = None
    visibility: JiraVisibility | None = None
    jsd_public: bool | None = None
    properties: list[JiraEntityProperty] = Field(default_factory=list)

    @property
    def text(self) -> str:
        if self.body is None:
            return ""
        if isinstance(self.body, str):
            return self.body
        return self.body.plain_text()

    def property_value(self, key: str) -> JiraEntityProperty | None:
        return next((prop for prop in self.properties if prop.key == key), None)


class JiraCommentPage(JiraModel):
    start_at: int = 0
    max_results: int | None = None
    total: int | None = None
    comments: list[JiraComment] = Field(default_factory=list)


class JiraCommentList(JiraModel):
    """`POST /rest/api/{2,3}/comment/list` answers a paged bean with `values`."""

    start_at: int = 0
    max_results: int | None = None
    total: int | None = None
    is_last: bool | None = None
    values: list[JiraComment] = Field(default_factory=list)


class JiraEmbeddedComments(JiraModel):
    """An issue's `comment` field, read without the bodies. A search embeds at most 20 comments an
    issue (reference §2, unverified) and GET issue all of them; `total` says how many there are."""

    start_at: int = 0
    max_results: int | None = None
    total: int | None = None
    comments: list[JiraCommentStamp] = Field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return self.start_at == 0 and (self.total is None or len(self.comments) >= self.total)
