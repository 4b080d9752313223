from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.app import Sandbox


def test_request_log_counts_calls_by_route_template(api: TestClient) -> None:
    api.get("/rest/api/3/issue/ACM-1")
    api.get("/rest/api/3/issue/ACM-2")
    api.get("/rest/api/3/search/jql", params={"jql": "project = ACM"})
    body = api.get("/_sandbox/requests").json()
    assert body == {
        "total": 3,
        "by_route": {"GET /rest/api/3/issue/{issueIdOrKey}": 2, "GET /rest/api/3/search/jql": 1},
    }


def test_request_log_ignores_control_calls(api: TestClient) -> None:
    api.get("/_sandbox/")
    api.post("/_sandbox/clock/advance", json={"minutes": 1})
    assert api.get("/_sandbox/requests").json()["total"] == 0


def test_request_log_counts_failed_and_unauthenticated_calls(anonymous: TestClient) -> None:
    anonymous.get("/rest/api/3/myself")
    assert anonymous.get("/_sandbox/requests").json()["by_route"] == {"GET /rest/api/3/myself": 1}


def test_request_log_counts_doubled_slash_paths_under_their_template(api: TestClient) -> None:
    api.get("/rest/api/3//issue/ACM-1")
    assert api.get("/_sandbox/requests").json()["by_route"] == {"GET /rest/api/3/issue/{issueIdOrKey}": 1}


def test_request_log_unknown_path_is_counted_as_unmatched(api: TestClient) -> None:
    api.get("/rest/api/3/nothing/here")
    assert api.get("/_sandbox/requests").json()["by_route"] == {"GET (unmatched)": 1}


def test_request_log_reset_starts_from_zero(api: TestClient, sandbox: Sandbox) -> None:
    api.get("/rest/api/3/field")
    reset = api.post("/_sandbox/requests/reset").json()
    api.get("/rest/api/3/field")
    assert reset == {"total": 0, "by_route": {}}
    assert sandbox.request_log.count("GET /rest/api/3/field") == 1
