"""Request shapes of the two search APIs, and the decoded-JSON form of an enhanced search page.

Cloud `POST /rest/api/3/search/jql` rejects unknown body keys (`additionalProperties: false`), so
only set keys are sent; its `expand` is a comma string while `fields`/`properties` are arrays. Data
Center `POST /rest/api/2/search` takes `expand` as an array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue

from connectors.http import InvalidResponseError, Params


@dataclass(frozen=True, slots=True)
class SearchSpec:
    jql: str
    fields: Sequence[str]
    expand: Sequence[str] = ()
    properties: Sequence[str] = ()
    page_size: int = 100
    reconcile_issue_ids: Sequence[int] = ()
    use_post: bool = True

    @property
    def method(self) -> str:
        return "POST" if self.use_post else "GET"


def token_search_body(spec: SearchSpec, token: str | None) -> dict[str, JsonValue]:
    body: dict[str, JsonValue] = {"jql": spec.jql, "maxResults": spec.page_size, "fields": list(spec.fields)}
    if spec.expand:
        body["expand"] = ",".join(spec.expand)
    if spec.properties:
        body["properties"] = list(spec.properties)
    if spec.reconcile_issue_ids:
        body["reconcileIssues"] = list(spec.reconcile_issue_ids)
    if token is not None:
        body["nextPageToken"] = token
    return body


def token_search_params(spec: SearchSpec, token: str | None) -> Params:
    return {
        "jql": spec.jql,
        "maxResults": spec.page_size,
        "fields": ",".join(spec.fields),
        "expand": ",".join(spec.expand) or None,
        "properties": list(spec.properties) or None,
        "reconcileIssues": [str(issue_id) for issue_id in spec.reconcile_issue_ids] or None,
        "nextPageToken": token,
    }


def offset_search_body(spec: SearchSpec, start: int) -> dict[str, JsonValue]:
    body: dict[str, JsonValue] = {
        "jql": spec.jql,
        "startAt": start,
        "maxResults": spec.page_size,
        "fields": list(spec.fields),
    }
    if spec.expand:
        body["expand"] = list(spec.expand)
    if spec.properties:
        body["properties"] = list(spec.properties)
    return body


def offset_search_params(spec: SearchSpec, start: int) -> Params:
    return {
        "jql": spec.jql,
        "startAt": start,
        "maxResults": spec.page_size,
        "fields": ",".join(spec.fields),
        "expand": ",".join(spec.expand) or None,
        "properties": ",".join(spec.properties) or None,
    }


@dataclass(frozen=True, slots=True)
class RawIssuePage:
    """One enhanced search page as decoded JSON: each issue is the dict Jira sent (its `id` and
    `key` checked to be strings, nothing else validated), for callers that map fields themselves."""

    issues: list[dict[str, Any]]
    next_page_token: str | None


def raw_token_page(body: dict[str, Any], *, endpoint: str) -> RawIssuePage:
    """The envelope of `/rest/api/3/search/jql` checked as the wire model checks it."""
    issues = body.get("issues")
    token = body.get("nextPageToken")
    is_last = body.get("isLast")
    if issues is None:
        issues = []
    if (
        not isinstance(issues, list)
        or not (token is None or isinstance(token, str))
        or not (is_last is None or isinstance(is_last, bool))
    ):
        raise InvalidResponseError("unexpected search page shape", endpoint=endpoint)
    for issue in issues:
        if not (isinstance(issue, dict) and type(issue.get("id")) is str and type(issue.get("key")) is str):
            raise InvalidResponseError("unexpected issue shape in a search page", endpoint=endpoint)
    return RawIssuePage(issues=issues, next_page_token=None if is_last else token)
