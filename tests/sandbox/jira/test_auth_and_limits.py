from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.app import Sandbox
from sandbox.jira.model import Issue

ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}],
}


def test_basic_auth_with_api_token_is_accepted(api: TestClient) -> None:
    assert api.get("/rest/api/3/myself").json()["emailAddress"] == "integration@agency.example"


@pytest.mark.parametrize("token_attr", ["jira_pat", "jira_oauth_token"], ids=["pat", "oauth"])
def test_bearer_token_is_accepted(anonymous: TestClient, sandbox: Sandbox, token_attr: str) -> None:
    token = getattr(sandbox, token_attr)
    response = anonymous.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_wrong_api_token_answers_401_plain_text(anonymous: TestClient, sandbox: Sandbox) -> None:
    response = anonymous.get("/rest/api/3/myself", auth=(sandbox.jira_email, "wrong"))
    assert response.status_code == 401
    assert response.text == "Client must be authenticated to access this resource."
    assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"


def test_missing_credentials_answer_401_json(anonymous: TestClient) -> None:
    response = anonymous.get("/rest/api/3/search/jql", params={"jql": "project = ACM"})
    assert response.status_code == 401
    assert response.json()["errorMessages"] == [
        "You are not authenticated. Authentication required to perform this operation."
    ]


def test_server_info_is_anonymous_and_cloud(anonymous: TestClient) -> None:
    body = anonymous.get("/rest/api/2/serverInfo").json()
    assert body["deploymentType"] == "Cloud"
    assert body["baseUrl"] == "https://sandbox.test"


def test_server_info_for_a_personal_access_token_is_data_center(dc_api: TestClient) -> None:
    body = dc_api.get("/rest/api/2/serverInfo").json()
    assert body["deploymentType"] == "Server"
    assert body["versionNumbers"][0] < 1000


def test_server_info_for_cloud_credentials_is_cloud(api: TestClient) -> None:
    assert api.get("/rest/api/latest/serverInfo").json()["deploymentType"] == "Cloud"


def test_form_post_without_no_check_token_answers_403(
    api: TestClient, new_issue: Callable[..., Issue]
) -> None:
    response = api.post(
        f"/rest/api/3/issue/{new_issue().key}/comment",
        content=b"body=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403
    assert response.json()["errorMessages"] == ["XSRF check failed"]


def test_doubled_slashes_in_path_are_served(api: TestClient) -> None:
    response = api.get("/rest/api/3//issue//ACM-1")
    assert response.status_code == 200
    assert response.json()["key"] == "ACM-1"


def test_dynamic_webhooks_refuse_basic_auth_with_403(api: TestClient) -> None:
    response = api.get("/rest/api/3/webhook")
    assert response.status_code == 403


def _burst(sandbox: Sandbox, capacity: int) -> None:
    limits = sandbox.jira.limiter.config
    limits.burst_capacity = capacity
    limits.burst_refill_per_s = 1.0
    sandbox.jira.limiter.reset()


def test_burst_limit_answers_429_with_retry_after_and_headers(api: TestClient, sandbox: Sandbox) -> None:
    _burst(sandbox, 3)
    statuses = [api.get("/rest/api/3/myself").status_code for _ in range(4)]
    limited = api.get("/rest/api/3/myself")
    assert statuses == [200, 200, 200, 429]
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset"].endswith("Z")


def test_burst_limit_is_per_endpoint(api: TestClient, sandbox: Sandbox) -> None:
    _burst(sandbox, 1)
    api.get("/rest/api/3/myself")
    assert api.get("/rest/api/3/field").status_code == 200


def test_burst_limit_refills_with_time(api: TestClient, sandbox: Sandbox, monotonic: Any) -> None:
    _burst(sandbox, 1)
    api.get("/rest/api/3/myself")
    monotonic.advance(1.0)
    assert api.get("/rest/api/3/myself").status_code == 200


def test_near_limit_header_appears_below_20_percent(api: TestClient, sandbox: Sandbox) -> None:
    _burst(sandbox, 10)
    headers = [api.get("/rest/api/3/myself").headers.get("X-RateLimit-NearLimit") for _ in range(10)]
    assert headers[:7] == [None] * 7
    assert headers[-1] == "true"


def test_per_issue_write_limit_answers_429_after_20_writes_in_2s(
    api: TestClient, new_issue: Callable[..., Issue], monotonic: Any
) -> None:
    issue = new_issue()
    url = f"/rest/api/3/issue/{issue.key}/comment"
    statuses = [api.post(url, json={"body": ADF}).status_code for _ in range(21)]
    limited = api.post(url, json={"body": ADF})
    other = api.post(f"/rest/api/3/issue/{new_issue('other').key}/comment", json={"body": ADF})
    monotonic.advance(2.5)
    later = api.post(url, json={"body": ADF})
    assert statuses == [201] * 20 + [429]
    assert limited.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
    assert int(limited.headers["Retry-After"]) >= 1
    assert (other.status_code, later.status_code) == (201, 201)


def test_per_issue_write_limit_counts_100_writes_in_30s(
    api: TestClient, new_issue: Callable[..., Issue], monotonic: Any
) -> None:
    issue = new_issue()
    url = f"/rest/api/3/issue/{issue.key}/properties/p"
    statuses = []
    for n in range(101):
        if n % 20 == 0:
            monotonic.advance(2.1)
        statuses.append(api.put(url, json={"n": n}).status_code)
    assert statuses[-1] == 429
    assert statuses.count(429) == 1
