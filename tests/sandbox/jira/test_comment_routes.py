from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from sandbox.jira.model import Issue

ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Slipping"}]}],
}


def test_create_comment_v3_with_adf_and_properties_answers_201(
    api: TestClient, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    response = api.post(
        f"/rest/api/3/issue/{issue.key}/comment",
        json={"body": ADF, "properties": [{"key": "pmbridge.flag", "value": {"flagId": 7, "fp": "abc"}}]},
    )
    assert response.status_code == 201
    comment = response.json()
    assert comment["body"] == ADF
    assert comment["self"].endswith(f"/rest/api/3/issue/{issue.id}/comment/{comment['id']}")
    prop = api.get(f"/rest/api/3/comment/{comment['id']}/properties/pmbridge.flag").json()
    assert prop == {"key": "pmbridge.flag", "value": {"flagId": 7, "fp": "abc"}}


def test_create_comment_v3_plain_string_answers_400(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    response = api.post(f"/rest/api/3/issue/{new_issue().key}/comment", json={"body": "plain"})
    assert response.status_code == 400
    assert response.json() == {"errorMessages": [], "errors": {"comment": "Comment body is not valid!"}}


def test_create_comment_v2_takes_plain_text(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue()
    created = api.post(f"/rest/api/2/issue/{issue.key}/comment", json={"body": "Plain *wiki*"}).json()
    assert created["body"] == "Plain *wiki*"
    as_v3 = api.get(f"/rest/api/3/issue/{issue.key}/comment/{created['id']}").json()
    assert as_v3["body"]["content"][0]["content"][0]["text"] == "Plain *wiki*"


def test_create_comment_empty_body_answers_400(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    response = api.post(f"/rest/api/2/issue/{new_issue().key}/comment", json={"body": ""})
    assert response.json()["errors"] == {"comment": "Comment body can not be empty!"}


def test_create_comment_moves_issue_updated(
    api: TestClient, new_issue: Callable[..., Issue], sandbox: object
) -> None:
    issue = new_issue()
    issue.updated_ms -= 60_000
    before = issue.updated_ms
    api.post(f"/rest/api/3/issue/{issue.key}/comment", json={"body": ADF})
    assert issue.updated_ms > before


def test_list_comments_pages_and_expands_properties(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue()
    for n in range(3):
        api.post(
            f"/rest/api/3/issue/{issue.key}/comment",
            json={"body": ADF, "properties": [{"key": "n", "value": n}]},
        )
    body = api.get(
        f"/rest/api/3/issue/{issue.key}/comment",
        params={"maxResults": 2, "expand": "properties", "orderBy": "-created"},
    ).json()
    assert (body["total"], body["maxResults"], len(body["comments"])) == (3, 2, 2)
    assert body["comments"][0]["properties"] == [{"key": "n", "value": 2}]


def test_update_comment_replaces_body(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue()
    comment = api.post(f"/rest/api/3/issue/{issue.key}/comment", json={"body": ADF}).json()
    edited = {**ADF, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Resolved"}]}]}
    response = api.put(f"/rest/api/3/issue/{issue.key}/comment/{comment['id']}", json={"body": edited})
    assert response.status_code == 200
    assert response.json()["body"] == edited


def test_delete_comment_answers_204_then_404(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue()
    comment = api.post(f"/rest/api/3/issue/{issue.key}/comment", json={"body": ADF}).json()
    url = f"/rest/api/3/issue/{issue.key}/comment/{comment['id']}"
    assert api.delete(url).status_code == 204
    missing = api.get(url)
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == [f"Can not find a comment for the id: {comment['id']}."]


def test_comment_properties_put_get_list_delete(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue()
    comment = api.post(f"/rest/api/3/issue/{issue.key}/comment", json={"body": ADF}).json()
    base = f"/rest/api/3/comment/{comment['id']}/properties"
    assert api.put(f"{base}/marker", json={"flag": 1}).status_code == 201
    assert api.put(f"{base}/marker", json={"flag": 2}).status_code == 200
    assert api.get(base).json()["keys"][0]["key"] == "marker"
    assert api.get(f"{base}/marker").json()["value"] == {"flag": 2}
    assert api.delete(f"{base}/marker").status_code == 204
    assert api.get(f"{base}/marker").status_code == 404


def test_comments_by_ids_returns_found_comments(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue()
    comment = api.post(f"/rest/api/3/issue/{issue.key}/comment", json={"body": ADF}).json()
    body = api.post("/rest/api/3/comment/list", json={"ids": [int(comment["id"]), 1]}).json()
    assert [c["id"] for c in body["values"]] == [comment["id"]]
