from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.app import Sandbox


def test_field_catalog_lists_custom_fields_by_schema(api: TestClient) -> None:
    fields = {f["id"]: f for f in api.get("/rest/api/3/field").json()}
    customs = {f["schema"].get("custom"): f["id"] for f in fields.values() if f["custom"]}
    assert customs["com.pyxis.greenhopper.jira:jsw-story-points"] == "customfield_10016"
    assert customs["com.pyxis.greenhopper.jira:gh-sprint"] == "customfield_10020"
    assert customs["com.atlassian.jira.plugin.system.customfieldtypes:datepicker"] == "customfield_10015"
    assert fields["customfield_10021"]["name"] == "Flagged"
    assert "cf[10020]" in fields["customfield_10020"]["clauseNames"]


def test_project_search_pages_and_filters_by_keys(api: TestClient) -> None:
    first = api.get("/rest/api/3/project/search", params={"maxResults": 1}).json()
    only = api.get("/rest/api/3/project/search", params={"keys": "BOR"}).json()
    assert (first["total"], first["isLast"], first["values"][0]["key"]) == (2, False, "ACM")
    assert "nextPage" in first
    assert [p["key"] for p in only["values"]] == ["BOR"]


def test_project_search_unknown_keys_answer_404(api: TestClient) -> None:
    assert api.get("/rest/api/3/project/search", params={"keys": "NOPE"}).status_code == 404


def test_project_list_v2_returns_every_project_in_one_array(api: TestClient) -> None:
    projects = api.get("/rest/api/2/project").json()

    assert [p["key"] for p in projects] == ["ACM", "BOR"]


def test_project_versions_are_unpaged_with_release_dates(api: TestClient, sandbox: Sandbox) -> None:
    versions = api.get("/rest/api/3/project/ACM/versions").json()
    expected = [
        v for v in sandbox.jira.versions.values() if v.project_id == sandbox.jira.project_by_key["ACM"]
    ]
    assert len(versions) == len(expected)
    assert all(len(v["releaseDate"]) == 10 for v in versions)
    assert versions[0]["projectId"] == sandbox.jira.project_by_key["ACM"]


def test_project_version_paged_filters_unreleased(api: TestClient) -> None:
    body = api.get("/rest/api/3/project/ACM/version", params={"status": "unreleased"}).json()
    assert body["values"]
    assert all(not v["released"] for v in body["values"])


def test_unknown_project_answers_404_body(api: TestClient) -> None:
    response = api.get("/rest/api/3/project/NOPE")
    assert response.json() == {"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {}}


def test_statuses_carry_real_category_keys(api: TestClient) -> None:
    categories = {s["statusCategory"]["key"] for s in api.get("/rest/api/3/status").json()}
    assert categories == {"new", "indeterminate", "done"}
