"""Request shapes of the two search APIs, and the decoded-JSON form of an enhanced search page.

Cloud `POST /rest/api/3/search/jql` rejects unknown body keys (`additionalProperties: false`), so
only set keys are sent; its `expand` is a comma string while `fields`/`properties` are arrays. Data
Center `POST /rest/api/2/search` takes `expand` as an array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import msgspec
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
    """One enhanced search page with each issue as the JSON text Jira sent (bytes), not decoded: for
    callers that read the few fields they map and keep the rest as it came. The envelope is checked
    as the wire model checks it; the issues are the caller's to validate."""

    issues: list[bytes]
    next_page_token: str | None


class _TokenEnvelope(msgspec.Struct):
    issues: list[msgspec.Raw] | None = None
    nextPageToken: str | None = None
    isLast: bool | None = None


_TOKEN_ENVELOPE = msgspec.json.Decoder(_TokenEnvelope)
E = TypeVar("E")


def decode_envelope(
    decoder: msgspec.json.Decoder[E], body: bytes, *, what: str, endpoint: str, status_code: int | None
) -> E:
    """`body` decoded into an envelope struct; a body of another shape is an invalid response."""
    try:
        return decoder.decode(body)
    except msgspec.DecodeError as exc:
        # Malformed JSON and a body of another shape alike (msgspec.ValidationError is a DecodeError).
        raise InvalidResponseError(
            f"unexpected {what} shape ({exc})", endpoint=endpoint, status_code=status_code
        ) from None


def raw_token_page(body: bytes, *, endpoint: str, status_code: int | None = None) -> RawIssuePage:
    """The envelope of `/rest/api/3/search/jql`, its issues left as JSON text."""
    envelope = decode_envelope(
        _TOKEN_ENVELOPE, body, what="search page", endpoint=endpoint, status_code=status_code
    )
    issues = [bytes(issue) for issue in envelope.issues or ()]
    return RawIssuePage(issues=issues, next_page_token=None if envelope.isLast else envelope.nextPageToken)
