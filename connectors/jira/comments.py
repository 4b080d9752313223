"""Comments and comment properties (the idempotency markers of pushed-back flags)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from pydantic import JsonValue, TypeAdapter

from connectors.http import NotFoundError, Params, paginate_by_offset
from connectors.jira.adf import adf_from_text
from connectors.jira.base import JiraClientBase, issue_write_key
from connectors.jira.models.comment import JiraComment, JiraCommentList, JiraCommentPage, JiraVisibility
from connectors.jira.models.common import JiraEntityProperty

COMMENT_LIST_MAX_IDS = 1000
_COMMENT = TypeAdapter(JiraComment)
_COMMENT_PAGE = TypeAdapter(JiraCommentPage)
_COMMENT_LIST = TypeAdapter(JiraCommentList)
_PROPERTY = TypeAdapter(JiraEntityProperty)


class CommentsApi(JiraClientBase):
    def iter_comments(
        self, issue: str, *, page_size: int = 100, expand_properties: bool = False
    ) -> Iterator[JiraComment]:
        """Comments of an issue, oldest first.

        `expand_properties` asks for `expand=properties`; Cloud documents only `renderedBody` for this
        endpoint, so where properties do not come back use `list_comments_by_ids`.
        """
        route = self._api("/issue/{issue}/comment")

        def fetch(start: int) -> JiraCommentPage:
            params: Params = {
                "startAt": start,
                "maxResults": page_size,
                "orderBy": "created",
                "expand": "properties" if expand_properties else None,
            }
            return self._call(_COMMENT_PAGE, "GET", route, path={"issue": issue}, params=params)

        pages = paginate_by_offset(
            fetch,
            item_count=lambda page: len(page.comments),
            is_last=lambda page: page.total is not None and page.start_at + len(page.comments) >= page.total,
            reported_start=lambda page: page.start_at,
            endpoint=f"GET {route}",
        )
        for page in pages:
            yield from page.comments

    def list_comments_by_ids(
        self, comment_ids: Sequence[int], *, expand_properties: bool = True
    ) -> list[JiraComment]:
        """`POST /comment/list`, which does expand comment properties; batches of 1000 ids."""
        route = self._api("/comment/list")
        params: Params = {"expand": "properties" if expand_properties else None}
        comments: list[JiraComment] = []
        for offset in range(0, len(comment_ids), COMMENT_LIST_MAX_IDS):
            batch: list[JsonValue] = list(comment_ids[offset : offset + COMMENT_LIST_MAX_IDS])
            page = self._call(
                _COMMENT_LIST, "POST", route, params=params, json={"ids": batch}, idempotent=True
            )
            comments.extend(page.values)
        return comments

    def create_comment(
        self,
        issue: str,
        text: str,
        *,
        properties: Mapping[str, JsonValue] | None = None,
        visibility: JiraVisibility | None = None,
        adf_body: Mapping[str, JsonValue] | None = None,
    ) -> JiraComment:
        """Post a comment: ADF on Cloud (built from `text` unless `adf_body` is given), plain text on
        Data Center. `properties` are written atomically with the comment.

        Not retried after the server may have acted on it (read timeout, 5xx): the caller looks for
        its marker property before posting again.
        """
        body = self._comment_body(text, adf_body=adf_body, visibility=visibility)
        if properties:
            body["properties"] = [{"key": key, "value": value} for key, value in properties.items()]
        return self._call(
            _COMMENT,
            "POST",
            self._api("/issue/{issue}/comment"),
            path={"issue": issue},
            json=body,
            write_key=issue_write_key(issue),
            idempotent=False,
        )

    def update_comment(
        self,
        issue: str,
        comment_id: str,
        text: str,
        *,
        visibility: JiraVisibility | None = None,
        adf_body: Mapping[str, JsonValue] | None = None,
    ) -> JiraComment:
        return self._call(
            _COMMENT,
            "PUT",
            self._api("/issue/{issue}/comment/{comment_id}"),
            path={"issue": issue, "comment_id": comment_id},
            json=self._comment_body(text, adf_body=adf_body, visibility=visibility),
            write_key=issue_write_key(issue),
        )

    def find_comment_property(self, comment_id: str, key: str) -> JiraEntityProperty | None:
        route = self._api("/comment/{comment_id}/properties/{key}")
        try:
            return self._call(_PROPERTY, "GET", route, path={"comment_id": comment_id, "key": key})
        except NotFoundError:
            return None

    def set_comment_property(
        self, comment_id: str, key: str, value: JsonValue, *, issue: str | None = None
    ) -> None:
        """`issue`, when given, paces this write with the issue's other writes."""
        self._send(
            "PUT",
            self._api("/comment/{comment_id}/properties/{key}"),
            path={"comment_id": comment_id, "key": key},
            json=value,
            write_key=issue_write_key(issue) if issue is not None else None,
        )

    def _comment_body(
        self,
        text: str,
        *,
        adf_body: Mapping[str, JsonValue] | None,
        visibility: JiraVisibility | None,
    ) -> dict[str, JsonValue]:
        body: dict[str, JsonValue] = {}
        if self.site.is_cloud:
            body["body"] = dict(adf_body) if adf_body is not None else adf_from_text(text)
        else:
            body["body"] = text
        if visibility is not None:
            body["visibility"] = visibility.model_dump(mode="json", by_alias=True, exclude_none=True)
        return body
