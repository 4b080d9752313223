"""Projects and versions written through the platform API, users added through the control API and
found by the user searches: validation in Jira's error shape, nothing half-applied, the webhooks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from sandbox.app import Sandbox
from sandbox.emit import CollectingSink
from sandbox.jira.model import Version
from sandbox.jira.webhooks import PLAN_EVENTS


@pytest.fixture
def listening(sandbox: Sandbox) -> None:
    sandbox.jira.webhooks.register(url="https://agency.example/hook", events=PLAN_EVENTS, jql="project = ACM")


def _events(deliveries: CollectingSink) -> list[dict[str, Any]]:
    return [dict(orjson.loads(d.body)) for d in deliveries.deliveries]


def _user(api: TestClient, name: str = "Ada Lovelace", email: str = "ada@agency.example") -> str:
    response = api.post("/_sandbox/jira/users", json={"displayName": name, "email": email})
    assert response.status_code == 201
    return str(response.json()["accountId"])


def _version(sandbox: Sandbox, **attributes: Any) -> Version:
    project = sandbox.jira.projects[sandbox.jira.project_by_key["ACM"]]
    return sandbox.jira.create_version(project.id, "Launch", release_date="2026-04-01", **attributes)


def test_control_add_user_is_found_by_both_user_searches(api: TestClient) -> None:
    account_id = _user(api)

    found = api.get("/rest/api/3/user/search", params={"query": "lovelace"}).json()
    assignable = api.get(
        "/rest/api/3/user/assignable/search", params={"project": "ACM", "query": "ada"}
    ).json()

    assert [u["accountId"] for u in found] == [account_id]
    assert [u["displayName"] for u in assignable] == ["Ada Lovelace"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "ada@agency.example"}, 400),
        ({"displayName": "Ada", "email": "not-an-email"}, 400),
        ({"displayName": "Ada", "email": "ada@agency.example", "timeZone": "Mars/Olympus"}, 400),
        ({"displayName": "Ada", "email": "INTEGRATION@agency.example"}, 409),
    ],
    ids=["no-name", "bad-email", "unknown-zone", "email-taken"],
)
def test_control_add_user_refused_adds_no_one(
    api: TestClient, sandbox: Sandbox, body: dict[str, Any], status: int
) -> None:
    before = len(sandbox.jira.users)

    response = api.post("/_sandbox/jira/users", json=body)

    assert response.status_code == status
    assert response.json()["error"]
    assert len(sandbox.jira.users) == before


def test_create_project_answers_its_identifiers_and_sends_project_created(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, listening: None
) -> None:
    lead = _user(api)

    response = api.post(
        "/rest/api/3/project",
        json={"key": "NEW", "name": "New client", "leadAccountId": lead, "projectTypeKey": "software"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "self": f"https://sandbox.test/rest/api/3/project/{body['id']}",
        "id": body["id"],
        "key": "NEW",
    }
    assert api.get("/rest/api/3/project/NEW").json()["lead"]["accountId"] == lead
    (event,) = _events(deliveries)
    assert event["webhookEvent"] == "project_created"
    assert (event["project"]["key"], event["project"]["projectLead"]["accountId"]) == ("NEW", lead)
    assert event["timestamp"] == sandbox.jira.now_ms()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "new", "name": "New client"}, "projectKey"),
        ({"key": "N", "name": "New client"}, "projectKey"),
        ({"key": "ABCDEFGHIJK", "name": "New client"}, "projectKey"),
        ({"key": "ACM", "name": "New client"}, "projectKey"),
        ({"key": "NEW", "name": ""}, "name"),
        ({"key": "NEW", "name": "New client", "leadAccountId": "nobody"}, "projectLead"),
        ({"key": "NEW", "name": "New client", "projectTypeKey": "kanban"}, "projectTypeKey"),
    ],
    ids=[
        "lowercase-key",
        "one-letter-key",
        "key-too-long",
        "key-taken",
        "no-name",
        "unknown-lead",
        "bad-type",
    ],
)
def test_create_project_refused_answers_400_per_field_and_creates_nothing(
    api: TestClient,
    sandbox: Sandbox,
    deliveries: CollectingSink,
    listening: None,
    body: dict[str, Any],
    field: str,
) -> None:
    before = set(sandbox.jira.projects)
    payload = {"leadAccountId": sandbox.jira.current_account_id, **body}

    response = api.post("/rest/api/3/project", json=payload)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["errorMessages"] == []
    assert set(sandbox.jira.projects) == before
    assert deliveries.deliveries == []


def test_create_project_with_a_name_taken_is_refused(api: TestClient, sandbox: Sandbox) -> None:
    taken = sandbox.jira.projects[sandbox.jira.project_by_key["ACM"]].name
    body = {"key": "NEW", "name": taken.upper(), "leadAccountId": sandbox.jira.current_account_id}

    response = api.post("/rest/api/3/project", json=body)

    assert (response.status_code, list(response.json()["errors"])) == (400, ["projectName"])


def test_create_version_keeps_its_dates_and_sends_version_created(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, listening: None
) -> None:
    project_id = sandbox.jira.project_by_key["ACM"]

    response = api.post(
        "/rest/api/3/version",
        json={
            "name": "Launch",
            "projectId": project_id,
            "startDate": "2026-03-01",
            "releaseDate": "2026-04-01",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["startDate"], body["releaseDate"], body["released"]) == ("2026-03-01", "2026-04-01", False)
    listed = api.get("/rest/api/3/project/ACM/versions").json()
    assert body["id"] in {v["id"] for v in listed}
    (event,) = _events(deliveries)
    assert (event["webhookEvent"], event["version"]["id"]) == ("jira:version_created", body["id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Launch", "releaseDate": "01/04/2026"}, "releaseDate"),
        ({"name": "Launch", "startDate": "2026-02-30"}, "startDate"),
        ({"name": "Launch", "startDate": "2026-05-01", "releaseDate": "2026-04-01"}, "startDate"),
        ({"name": "Launch", "released": "yes"}, "released"),
    ],
    ids=["no-name", "not-iso", "no-such-day", "start-after-release", "released-not-bool"],
)
def test_create_version_refused_answers_400_per_field_and_creates_nothing(
    api: TestClient, sandbox: Sandbox, body: dict[str, Any], field: str
) -> None:
    before = set(sandbox.jira.versions)

    response = api.post("/rest/api/3/version", json={"projectId": sandbox.jira.project_by_key["ACM"], **body})

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert set(sandbox.jira.versions) == before


def test_create_version_with_a_name_taken_in_the_project_is_refused(
    api: TestClient, sandbox: Sandbox
) -> None:
    version = _version(sandbox)

    response = api.post("/rest/api/3/version", json={"name": "launch", "projectId": version.project_id})

    assert (response.status_code, list(response.json()["errors"])) == (400, ["name"])


@pytest.mark.parametrize(
    ("body", "status"),
    [({"name": "Launch"}, 400), ({"name": "Launch", "projectId": 1}, 404)],
    ids=["no-project", "unknown-project"],
)
def test_create_version_without_a_known_project_is_refused(
    api: TestClient, sandbox: Sandbox, body: dict[str, Any], status: int
) -> None:
    before = set(sandbox.jira.versions)

    response = api.post("/rest/api/3/version", json=body)

    assert response.status_code == status
    assert set(sandbox.jira.versions) == before


def test_update_version_moves_the_release_date_without_touching_any_issue(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, listening: None
) -> None:
    version = _version(sandbox)
    issue = next(i for i in sandbox.jira.issues.values() if sandbox.jira.projects[i.project_id].key == "ACM")
    api.patch(f"/_sandbox/jira/issues/{issue.key}", json={"fixVersions": [version.id]})
    histories = len(issue.histories)
    deliveries.deliveries.clear()

    response = api.put(f"/rest/api/3/version/{version.id}", json={"releaseDate": "2026-04-15"})

    assert (response.status_code, response.json()["releaseDate"]) == (200, "2026-04-15")
    assert len(issue.histories) == histories
    assert [e["webhookEvent"] for e in _events(deliveries)] == ["jira:version_updated"]


def test_update_version_released_sends_version_released_alone(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, listening: None
) -> None:
    version = _version(sandbox)
    deliveries.deliveries.clear()

    response = api.put(f"/rest/api/3/version/{version.id}", json={"released": True})

    assert response.json()["released"] is True
    assert [e["webhookEvent"] for e in _events(deliveries)] == ["jira:version_released"]


def test_update_version_with_a_null_release_date_clears_it(api: TestClient, sandbox: Sandbox) -> None:
    version = _version(sandbox)

    body = api.put(f"/rest/api/3/version/{version.id}", json={"releaseDate": None}).json()

    assert "releaseDate" not in body
    assert version.release_date is None


def test_update_version_refused_changes_nothing(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, listening: None
) -> None:
    version = _version(sandbox, start_date="2026-03-01")
    deliveries.deliveries.clear()

    response = api.put(
        f"/rest/api/3/version/{version.id}", json={"name": "Renamed", "releaseDate": "2026-02-01"}
    )

    assert (response.status_code, list(response.json()["errors"])) == (400, ["startDate"])
    assert (version.name, version.release_date) == ("Launch", "2026-04-01")
    assert deliveries.deliveries == []


def test_update_version_unknown_answers_404(api: TestClient) -> None:
    response = api.put("/rest/api/3/version/1", json={"releaseDate": "2026-04-15"})

    assert response.status_code == 404
    assert response.json()["errorMessages"]


def test_version_writes_are_stamped_with_the_sandbox_clock(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, listening: None
) -> None:
    version = _version(sandbox)
    sandbox.clock.advance(timedelta(days=3))
    deliveries.deliveries.clear()

    api.put(f"/rest/api/3/version/{version.id}", json={"releaseDate": "2026-04-15"})

    assert _events(deliveries)[0]["timestamp"] == sandbox.jira.now_ms()


@pytest.mark.parametrize(
    ("params", "status"),
    [({}, 400), ({"project": "NOPE"}, 404), ({"issueKey": "NOPE-1"}, 404)],
    ids=["nothing-named", "unknown-project", "unknown-issue"],
)
def test_assignable_user_search_refused(api: TestClient, params: dict[str, str], status: int) -> None:
    response = api.get("/rest/api/3/user/assignable/search", params=params)

    assert response.status_code == status
    assert response.json()["errorMessages"]


def test_user_search_without_a_query_answers_400(api: TestClient) -> None:
    assert api.get("/rest/api/3/user/search").status_code == 400
