from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from connectors.http import TransientError
from connectors.jira import JiraClient
from connectors.jira.models import JiraVisibility

COMMENT_V3 = {
    "id": "10120",
    "author": {"accountId": "bot", "displayName": "pmbridge"},
    "body": {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Due date moved by 5 days"}]}],
    },
    "created": "2026-03-02T12:00:00.000+0000",
    "updated": "2026-03-02T12:00:00.000+0000",
    "properties": [{"key": "pmbridge.flag", "value": {"flagId": "f-1", "fingerprint": "abc"}}],
}


def test_cloud_create_comment_sends_adf_body_and_properties(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    route = cloud_router.post("/rest/api/3/issue/ED-1/comment").mock(
        return_value=httpx.Response(201, json=COMMENT_V3)
    )

    comment = cloud.create_comment(
        "ED-1",
        "Due date moved by 5 days",
        properties={"pmbridge.flag": {"flagId": "f-1", "fingerprint": "abc"}},
        visibility=JiraVisibility(type="role", value="Administrators", identifier="Administrators"),
    )

    assert json.loads(route.calls.last.request.content) == {
        "body": {
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Due date moved by 5 days"}]}
            ],
        },
        "visibility": {"type": "role", "value": "Administrators", "identifier": "Administrators"},
        "properties": [{"key": "pmbridge.flag", "value": {"flagId": "f-1", "fingerprint": "abc"}}],
    }
    assert comment.id == "10120"
    assert comment.text == "Due date moved by 5 days"
    prop = comment.property_value("pmbridge.flag")
    assert prop is not None and prop.value == {"flagId": "f-1", "fingerprint": "abc"}


def test_cloud_create_comment_with_adf_override_sends_it_verbatim(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    route = cloud_router.post("/rest/api/3/issue/ED-1/comment").mock(
        return_value=httpx.Response(201, json=COMMENT_V3)
    )
    doc: dict[str, Any] = {"type": "doc", "version": 1, "content": [{"type": "rule"}]}

    cloud.create_comment("ED-1", "ignored", adf_body=doc)

    assert json.loads(route.calls.last.request.content)["body"] == doc


def test_dc_create_comment_sends_plain_text(dc: JiraClient, dc_router: respx.Router) -> None:
    route = dc_router.post("/rest/api/2/issue/ED-1/comment").mock(
        return_value=httpx.Response(201, json={**COMMENT_V3, "body": "Due date *moved*"})
    )

    comment = dc.create_comment("ED-1", "Due date *moved*", properties={"pmbridge.flag": {"flagId": "f-1"}})

    assert json.loads(route.calls.last.request.content) == {
        "body": "Due date *moved*",
        "properties": [{"key": "pmbridge.flag", "value": {"flagId": "f-1"}}],
    }
    assert comment.text == "Due date *moved*"


def test_create_comment_is_not_repeated_after_server_error(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    route = cloud_router.post("/rest/api/3/issue/ED-1/comment").mock(
        side_effect=[httpx.Response(502), httpx.Response(201, json=COMMENT_V3)]
    )

    with pytest.raises(TransientError):
        cloud.create_comment("ED-1", "text")

    assert route.call_count == 1


def test_create_comment_is_repeated_after_429(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.post("/rest/api/3/issue/ED-1/comment").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(201, json=COMMENT_V3)]
    )

    cloud.create_comment("ED-1", "text")

    assert route.call_count == 2


def test_update_comment_puts_new_body(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.put("/rest/api/3/issue/ED-1/comment/10120").mock(
        return_value=httpx.Response(200, json=COMMENT_V3)
    )

    cloud.update_comment("ED-1", "10120", "Resolved")

    sent = json.loads(route.calls.last.request.content)
    assert sent["body"]["content"][0]["content"][0]["text"] == "Resolved"


def test_iter_comments_pages_and_expands_properties(cloud: JiraClient, cloud_router: respx.Router) -> None:
    def page(start: int, ids: list[str]) -> httpx.Response:
        comments = [{**COMMENT_V3, "id": comment_id} for comment_id in ids]
        return httpx.Response(200, json={"startAt": start, "maxResults": 2, "total": 3, "comments": comments})

    route = cloud_router.get("/rest/api/3/issue/ED-1/comment").mock(
        side_effect=[page(0, ["1", "2"]), page(2, ["3"])]
    )

    comments = list(cloud.iter_comments("ED-1", page_size=2, expand_properties=True))

    assert [comment.id for comment in comments] == ["1", "2", "3"]
    assert route.calls[0].request.url.params["expand"] == "properties"
    assert comments[0].properties[0].key == "pmbridge.flag"


def test_list_comments_by_ids_posts_ids_with_properties_expanded(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    route = cloud_router.post("/rest/api/3/comment/list").mock(
        return_value=httpx.Response(
            200, json={"startAt": 0, "total": 1, "isLast": True, "values": [COMMENT_V3]}
        )
    )

    comments = cloud.list_comments_by_ids([10120])

    assert json.loads(route.calls.last.request.content) == {"ids": [10120]}
    assert route.calls.last.request.url.params["expand"] == "properties"
    assert comments[0].id == "10120"


def test_find_comment_property_returns_value(cloud: JiraClient, cloud_router: respx.Router) -> None:
    cloud_router.get("/rest/api/3/comment/10120/properties/pmbridge.flag").mock(
        return_value=httpx.Response(200, json={"key": "pmbridge.flag", "value": {"flagId": "f-1"}})
    )

    prop = cloud.find_comment_property("10120", "pmbridge.flag")

    assert prop is not None and prop.value == {"flagId": "f-1"}


def test_find_comment_property_missing_returns_none(cloud: JiraClient, cloud_router: respx.Router) -> None:
    cloud_router.get("/rest/api/3/comment/10120/properties/pmbridge.flag").mock(
        return_value=httpx.Response(
            404, json={"errorMessages": ["The property was not found."], "errors": {}}
        )
    )

    assert cloud.find_comment_property("10120", "pmbridge.flag") is None


def test_set_comment_property_puts_json_value(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.put("/rest/api/3/comment/10120/properties/pmbridge.flag").mock(
        return_value=httpx.Response(201)
    )

    cloud.set_comment_property("10120", "pmbridge.flag", {"flagId": "f-1"}, issue="ED-1")

    assert json.loads(route.calls.last.request.content) == {"flagId": "f-1"}


def test_issue_property_round_trip(cloud: JiraClient, cloud_router: respx.Router) -> None:
    put = cloud_router.put("/rest/api/3/issue/ED-1/properties/pmbridge.sync").mock(
        return_value=httpx.Response(200)
    )
    cloud_router.get("/rest/api/3/issue/ED-1/properties/pmbridge.sync").mock(
        return_value=httpx.Response(200, json={"key": "pmbridge.sync", "value": {"syncedActions": ["a1"]}})
    )

    cloud.set_issue_property("ED-1", "pmbridge.sync", {"syncedActions": ["a1"]})
    prop = cloud.find_issue_property("ED-1", "pmbridge.sync")

    assert json.loads(put.calls.last.request.content) == {"syncedActions": ["a1"]}
    assert prop is not None and prop.value == {"syncedActions": ["a1"]}


def test_find_issue_property_missing_returns_none(dc: JiraClient, dc_router: respx.Router) -> None:
    dc_router.get("/rest/api/2/issue/ED-1/properties/pmbridge.sync").mock(return_value=httpx.Response(404))

    assert dc.find_issue_property("ED-1", "pmbridge.sync") is None
