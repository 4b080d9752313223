from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.server import LoopbackServer

SEARCH_KEY = "GET /rest/api/3/search/jql"
PARAMS = {"jql": "project = ACM"}


def _fault(api: TestClient, **rule: Any) -> dict[str, Any]:
    response = api.post("/_sandbox/faults", json=rule)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_fault_error_answers_status_with_retry_after(api: TestClient) -> None:
    _fault(api, route=SEARCH_KEY, kind="error", status=503, retry_after_s=2)
    response = api.get("/rest/api/3/search/jql", params=PARAMS)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.json()["errorMessages"] == ["Internal server error"]


def test_fault_rate_limit_answers_429_with_jira_headers(api: TestClient) -> None:
    _fault(api, route=SEARCH_KEY, kind="rate_limit", retry_after_s=3)
    response = api.get("/rest/api/3/search/jql", params=PARAMS)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.headers["RateLimit-Reason"] == "jira-burst-based"
    assert response.headers["X-RateLimit-Reset"].endswith("Z")


def test_fault_applies_to_its_route_only(api: TestClient) -> None:
    _fault(api, route=SEARCH_KEY, kind="error", status=500)
    assert api.get("/rest/api/3/myself").status_code == 200


def test_fault_wildcard_applies_everywhere(api: TestClient) -> None:
    _fault(api, route="*", kind="error", status=502)
    assert api.get("/rest/api/3/myself").status_code == 502


def test_fault_times_is_consumed_then_requests_succeed(api: TestClient) -> None:
    _fault(api, route=SEARCH_KEY, kind="error", status=500, times=2)
    statuses = [api.get("/rest/api/3/search/jql", params=PARAMS).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert api.get("/_sandbox/faults").json() == []


def test_fault_zero_probability_never_fires(api: TestClient) -> None:
    _fault(api, route=SEARCH_KEY, kind="error", probability=0.0)
    assert all(api.get("/rest/api/3/search/jql", params=PARAMS).status_code == 200 for _ in range(5))


def test_fault_malformed_body_is_not_json(api: TestClient) -> None:
    _fault(api, route=SEARCH_KEY, kind="malformed")
    response = api.get("/rest/api/3/search/jql", params=PARAMS)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


def test_fault_truncated_body_is_cut_short(api: TestClient) -> None:
    whole = api.get("/rest/api/3/search/jql", params=PARAMS).content
    _fault(api, route=SEARCH_KEY, kind="truncated")
    cut = api.get("/rest/api/3/search/jql", params=PARAMS).content
    assert cut == whole[: len(whole) // 2]


def test_fault_latency_still_answers(api: TestClient) -> None:
    _fault(api, route=SEARCH_KEY, kind="latency", latency_s=0.01)
    assert api.get("/rest/api/3/search/jql", params=PARAMS).status_code == 200


def test_fault_timeout_outlasts_the_client(sandbox: Sandbox) -> None:
    with (
        LoopbackServer(create_sandbox_app(sandbox)) as server,
        httpx.Client(
            base_url=server.base_url, auth=(sandbox.jira_email, sandbox.jira_api_token), timeout=0.2
        ) as client,
    ):
        client.post(
            "/_sandbox/faults", json={"route": SEARCH_KEY, "kind": "timeout", "latency_s": 0.6, "times": 1}
        )
        with pytest.raises(httpx.ReadTimeout):
            client.get("/rest/api/3/search/jql", params=PARAMS)


def test_fault_unknown_kind_answers_400(api: TestClient) -> None:
    assert api.post("/_sandbox/faults", json={"kind": "explode"}).status_code == 400


def test_fault_delete_and_clear_remove_rules(api: TestClient) -> None:
    first = _fault(api, route=SEARCH_KEY, kind="error")
    _fault(api, route="*", kind="latency")
    assert api.delete(f"/_sandbox/faults/{first['id']}").status_code == 204
    assert len(api.get("/_sandbox/faults").json()) == 1
    api.delete("/_sandbox/faults")
    assert api.get("/_sandbox/faults").json() == []


def test_fault_does_not_touch_control_api(api: TestClient) -> None:
    _fault(api, route="*", kind="error")
    assert api.get("/_sandbox/requests").status_code == 200
