"""Request shapes of the two search APIs.

Cloud `POST /rest/api/3/search/jql` rejects unknown body keys (`additionalProperties: false`), so
only set keys are sent; its `expand` is a comma string while `fields`/`properties` are arrays. Data
Center `POST /rest/api/2/search` takes `expand` as an array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import JsonValue

from connectors.http import Params


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
