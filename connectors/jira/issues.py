"""Issue reads: search (Cloud enhanced or Data Center offset), single issues, changelogs, properties."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import msgspec
from pydantic import JsonValue, TypeAdapter

from connectors.http import InvalidResponseError, NotFoundError, Params, paginate_by_offset, paginate_by_token
from connectors.jira.base import JiraClientBase, issue_write_key
from connectors.jira.models.changelog import JiraBulkChangelogPage, JiraChangeHistory, JiraChangelogPage
from connectors.jira.models.common import JiraEntityProperty
from connectors.jira.models.issue import JiraIssue
from connectors.jira.models.search import JiraIssuePage, JiraOffsetSearchPage, JiraTokenSearchPage
from connectors.jira.search import (
    RawIssuePage,
    SearchSpec,
    decode_envelope,
    offset_search_body,
    offset_search_params,
    raw_token_page,
    token_search_body,
    token_search_params,
)

BULK_CHANGELOG_MAX_ISSUES = 1000
RECONCILE_MAX_ISSUES = 50
SEARCH_PROPERTIES_MAX = 5
_TOKEN_PAGE = TypeAdapter(JiraTokenSearchPage)
_OFFSET_PAGE = TypeAdapter(JiraOffsetSearchPage)
_ISSUE = TypeAdapter(JiraIssue)
_CHANGELOG_PAGE = TypeAdapter(JiraChangelogPage)
_BULK_CHANGELOG_PAGE = TypeAdapter(JiraBulkChangelogPage)
_PROPERTY = TypeAdapter(JiraEntityProperty)


@dataclass(frozen=True, slots=True)
class RawBulkChangelogPage:
    """One bulk changelog page: (issue id, each change history as the JSON text Jira sent), for
    callers that read the few fields they map. The envelope is checked; each history is an object."""

    issue_change_logs: list[tuple[str, list[bytes]]]
    next_page_token: str | None


class IssuesApi(JiraClientBase):
    def iter_search_pages(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        expand: Sequence[str] = (),
        properties: Sequence[str] = (),
        page_size: int = 100,
        reconcile_issue_ids: Sequence[int] = (),
        use_post: bool = True,
    ) -> Iterator[JiraIssuePage]:
        """Pages of a JQL search, fetched lazily.

        Cloud: `/rest/api/3/search/jql` with `nextPageToken` (the JQL must be bounded; `fields`
        defaults to `id` only there, so always name them). Data Center: `/rest/api/2/search` with
        `startAt`; `reconcile_issue_ids` is Cloud-only and ignored on Data Center.
        """
        if len(properties) > SEARCH_PROPERTIES_MAX:
            raise ValueError(f"at most {SEARCH_PROPERTIES_MAX} issue properties per search")
        if len(reconcile_issue_ids) > RECONCILE_MAX_ISSUES:
            raise ValueError(f"at most {RECONCILE_MAX_ISSUES} issue ids to reconcile")
        spec = SearchSpec(
            jql=jql,
            fields=tuple(fields),
            expand=tuple(expand),
            properties=tuple(properties),
            page_size=page_size,
            reconcile_issue_ids=tuple(reconcile_issue_ids),
            use_post=use_post,
        )
        if self.site.is_cloud:
            yield from self._iter_token_search(spec)
        else:
            yield from self._iter_offset_search(spec)

    def iter_search_pages_raw(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        page_size: int = 100,
        reconcile_issue_ids: Sequence[int] = (),
    ) -> Iterator[RawIssuePage]:
        """Pages of a Cloud enhanced search (POST) as decoded JSON, fetched lazily.

        The fast path for bulk reads: no wire models are built, so a caller maps each issue dict
        itself (and falls back to `JiraIssue` for shapes it does not know).
        """
        self._require_cloud("raw enhanced search")
        if len(reconcile_issue_ids) > RECONCILE_MAX_ISSUES:
            raise ValueError(f"at most {RECONCILE_MAX_ISSUES} issue ids to reconcile")
        spec = SearchSpec(
            jql=jql, fields=tuple(fields), page_size=page_size, reconcile_issue_ids=tuple(reconcile_issue_ids)
        )
        route = "/rest/api/3/search/jql"
        endpoint = f"POST {route}"

        def fetch(token: str | None) -> RawIssuePage:
            body, status = self._call_bytes(
                "POST", route, json=token_search_body(spec, token), idempotent=True
            )
            return raw_token_page(body, endpoint=endpoint, status_code=status)

        yield from paginate_by_token(fetch, next_token=lambda page: page.next_page_token, endpoint=endpoint)

    def search_issues(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        expand: Sequence[str] = (),
        properties: Sequence[str] = (),
        page_size: int = 100,
        reconcile_issue_ids: Sequence[int] = (),
        use_post: bool = True,
    ) -> Iterator[JiraIssue]:
        """Issues of a JQL search, one page in memory at a time (see `iter_search_pages`)."""
        for page in self.iter_search_pages(
            jql,
            fields=fields,
            expand=expand,
            properties=properties,
            page_size=page_size,
            reconcile_issue_ids=reconcile_issue_ids,
            use_post=use_post,
        ):
            yield from page.issues

    def get_issue(
        self,
        issue: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] = (),
        properties: Sequence[str] = (),
    ) -> JiraIssue:
        """`fields=None` means Jira's default for this endpoint (`*all`)."""
        params: Params = {
            "fields": ",".join(fields) if fields is not None else None,
            "expand": ",".join(expand) or None,
            "properties": ",".join(properties) or None,
        }
        return self._call(_ISSUE, "GET", self._api("/issue/{issue}"), path={"issue": issue}, params=params)

    def iter_bulk_changelogs(
        self, issue_ids_or_keys: Sequence[str], *, field_ids: Sequence[str] = (), page_size: int = 1000
    ) -> Iterator[JiraBulkChangelogPage]:
        """Changelogs of up to 1000 issues, oldest first across them (Cloud only)."""
        self._require_cloud("bulk changelog fetch")
        if not 0 < len(issue_ids_or_keys) <= BULK_CHANGELOG_MAX_ISSUES:
            raise ValueError(f"between 1 and {BULK_CHANGELOG_MAX_ISSUES} issues per bulk changelog fetch")
        route = "/rest/api/3/changelog/bulkfetch"

        def fetch(token: str | None) -> JiraBulkChangelogPage:
            body: dict[str, JsonValue] = {"issueIdsOrKeys": list(issue_ids_or_keys), "maxResults": page_size}
            if field_ids:
                body["fieldIds"] = list(field_ids)
            if token is not None:
                body["nextPageToken"] = token
            return self._call(_BULK_CHANGELOG_PAGE, "POST", route, json=body, idempotent=True)

        yield from paginate_by_token(fetch, next_token=lambda page: page.next_page_token, endpoint=route)

    def iter_bulk_changelogs_raw(
        self, issue_ids_or_keys: Sequence[str], *, page_size: int = 1000
    ) -> Iterator[RawBulkChangelogPage]:
        """`iter_bulk_changelogs` with each history as the JSON text Jira sent, unvalidated."""
        self._require_cloud("bulk changelog fetch")
        if not 0 < len(issue_ids_or_keys) <= BULK_CHANGELOG_MAX_ISSUES:
            raise ValueError(f"between 1 and {BULK_CHANGELOG_MAX_ISSUES} issues per bulk changelog fetch")
        route = "/rest/api/3/changelog/bulkfetch"
        endpoint = f"POST {route}"

        def fetch(token: str | None) -> RawBulkChangelogPage:
            body: dict[str, JsonValue] = {"issueIdsOrKeys": list(issue_ids_or_keys), "maxResults": page_size}
            if token is not None:
                body["nextPageToken"] = token
            content, status = self._call_bytes("POST", route, json=body, idempotent=True)
            return _raw_bulk_page(content, endpoint, status)

        yield from paginate_by_token(fetch, next_token=lambda page: page.next_page_token, endpoint=endpoint)

    def iter_changelog(self, issue: str, *, page_size: int = 100) -> Iterator[JiraChangeHistory]:
        """The full history of one issue, oldest first.

        Data Center has no paged changelog endpoint (404), so it reads `expand=changelog` on the issue.
        """
        if not self.site.is_cloud:
            expanded = self.get_issue(issue, fields=["created"], expand=["changelog"])
            if expanded.changelog is not None:
                yield from sorted(expanded.changelog.histories, key=lambda history: history.created)
            return
        route = "/rest/api/3/issue/{issue}/changelog"

        def fetch(start: int) -> JiraChangelogPage:
            params = {"startAt": start, "maxResults": page_size}
            return self._call(_CHANGELOG_PAGE, "GET", route, path={"issue": issue}, params=params)

        pages = paginate_by_offset(
            fetch,
            item_count=lambda page: len(page.values),
            is_last=_changelog_is_last,
            reported_start=lambda page: page.start_at,
            endpoint=f"GET {route}",
        )
        for page in pages:
            yield from page.values

    def find_issue_property(self, issue: str, key: str) -> JiraEntityProperty | None:
        route = self._api("/issue/{issue}/properties/{key}")
        try:
            return self._call(_PROPERTY, "GET", route, path={"issue": issue, "key": key})
        except NotFoundError:
            return None

    def set_issue_property(self, issue: str, key: str, value: JsonValue) -> None:
        """Jira accepts any non-empty JSON value up to 32768 bytes; 201 created or 200 updated."""
        route = self._api("/issue/{issue}/properties/{key}")
        self._send(
            "PUT", route, path={"issue": issue, "key": key}, json=value, write_key=issue_write_key(issue)
        )

    def _iter_token_search(self, spec: SearchSpec) -> Iterator[JiraIssuePage]:
        route = "/rest/api/3/search/jql"

        def fetch(token: str | None) -> JiraTokenSearchPage:
            if spec.use_post:
                body = token_search_body(spec, token)
                return self._call(_TOKEN_PAGE, "POST", route, json=body, idempotent=True)
            return self._call(_TOKEN_PAGE, "GET", route, params=token_search_params(spec, token))

        def next_token(page: JiraTokenSearchPage) -> str | None:
            return None if page.is_last else page.next_page_token

        endpoint = f"{spec.method} {route}"
        for page in paginate_by_token(fetch, next_token=next_token, endpoint=endpoint):
            yield JiraIssuePage(issues=page.issues, next_page_token=next_token(page))

    def _iter_offset_search(self, spec: SearchSpec) -> Iterator[JiraIssuePage]:
        route = "/rest/api/2/search"

        def fetch(start: int) -> JiraOffsetSearchPage:
            if spec.use_post:
                body = offset_search_body(spec, start)
                return self._call(_OFFSET_PAGE, "POST", route, json=body, idempotent=True)
            return self._call(_OFFSET_PAGE, "GET", route, params=offset_search_params(spec, start))

        pages = paginate_by_offset(
            fetch,
            item_count=lambda page: len(page.issues),
            is_last=lambda page: page.total is not None and page.start_at + len(page.issues) >= page.total,
            reported_start=lambda page: page.start_at,
            endpoint=f"{spec.method} {route}",
        )
        for page in pages:
            yield JiraIssuePage(issues=page.issues, start_at=page.start_at, total=page.total)


def _changelog_is_last(page: JiraChangelogPage) -> bool:
    if page.is_last is not None:
        return page.is_last
    return page.total is not None and page.start_at + len(page.values) >= page.total


class _IssueChangeLog(msgspec.Struct):
    issueId: str
    changeHistories: list[msgspec.Raw] | None = None


class _BulkChangelogEnvelope(msgspec.Struct):
    issueChangeLogs: list[_IssueChangeLog] | None = None
    nextPageToken: str | None = None


_BULK_CHANGELOG_ENVELOPE = msgspec.json.Decoder(_BulkChangelogEnvelope)


def _raw_bulk_page(body: bytes, endpoint: str, status_code: int | None = None) -> RawBulkChangelogPage:
    envelope = decode_envelope(
        _BULK_CHANGELOG_ENVELOPE, body, what="bulk changelog page", endpoint=endpoint, status_code=status_code
    )
    entries: list[tuple[str, list[bytes]]] = []
    for log in envelope.issueChangeLogs or ():
        histories = [bytes(history) for history in log.changeHistories or ()]
        if not all(history[:1] == b"{" for history in histories):
            raise InvalidResponseError("a change history is not an object", endpoint=endpoint)
        entries.append((log.issueId, histories))
    return RawBulkChangelogPage(issue_change_logs=entries, next_page_token=envelope.nextPageToken)
