"""The independent reference client `jira` (pycontribs 3.10.5) against the sandbox over loopback."""

from __future__ import annotations

import pytest
from jira import JIRA, JIRAError

from sandbox.app import Sandbox

ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Risk"}]}],
}


def _client(served: str, sandbox: Sandbox, version: str = "2") -> JIRA:
    return JIRA(
        server=served,
        basic_auth=(sandbox.jira_email, sandbox.jira_api_token),
        options={"rest_api_version": version},
        max_retries=0,
        timeout=10,
    )


def test_pycontribs_constructor_sees_a_cloud_site(served: str, sandbox: Sandbox) -> None:
    client = _client(served, sandbox)
    assert client.deploymentType == "Cloud"
    assert client.myself()["accountId"] == sandbox.jira.current_account_id


def test_pycontribs_enhanced_search_returns_first_page_and_token(served: str, sandbox: Sandbox) -> None:
    client = _client(served, sandbox, "3")
    page = client.enhanced_search_issues("project = ACM ORDER BY updated ASC", maxResults=5)
    assert len(page) == 5
    assert page.nextPageToken
    assert page[0].fields.project.key == "ACM"
    rest = client.enhanced_search_issues(
        "project = ACM ORDER BY updated ASC", nextPageToken=page.nextPageToken, maxResults=50
    )
    assert {i.key for i in page} | {i.key for i in rest} == {f"ACM-{n}" for n in range(1, 13)}


def test_pycontribs_enhanced_search_all_pages_with_post(served: str, sandbox: Sandbox) -> None:
    client = _client(served, sandbox)
    issues = client.enhanced_search_issues(
        "project in (ACM, BOR) AND updated >= '2020-01-01 00:00' order by updated asc",
        maxResults=0,
        use_post=True,
    )
    assert len(issues) == len(sandbox.jira.issues)


def test_pycontribs_translates_field_names_through_the_field_catalog(served: str, sandbox: Sandbox) -> None:
    client = _client(served, sandbox, "3")
    page = client.enhanced_search_issues("project = ACM", maxResults=3, fields="Sprint,summary")
    assert all("customfield_10020" in issue.raw["fields"] for issue in page)


def test_pycontribs_search_issues_delegates_to_enhanced_search(served: str, sandbox: Sandbox) -> None:
    client = _client(served, sandbox)
    assert len(client.search_issues("project = BOR", maxResults=4)) == 4


def test_pycontribs_issue_fetch_reads_fields_and_changelog(served: str, sandbox: Sandbox) -> None:
    client = _client(served, sandbox)
    key = max(sandbox.jira.issues.values(), key=lambda i: len(i.histories)).key
    issue = client.issue(key, expand="changelog")
    assert issue.key == key
    assert issue.fields.status.name == sandbox.jira.find_issue(key).status.name  # type: ignore[union-attr]
    assert len(issue.changelog.histories) == len(sandbox.jira.find_issue(key).histories)  # type: ignore[union-attr]


def test_pycontribs_add_comment_v2_text(served: str, sandbox: Sandbox) -> None:
    client = _client(served, sandbox)
    comment = client.add_comment("ACM-1", "Pushed from pmbridge")
    assert comment.body == "Pushed from pmbridge"
    assert [c.id for c in client.comments("ACM-1")][-1] == comment.id


def test_pycontribs_add_comment_v3_adf_and_update(served: str, sandbox: Sandbox) -> None:
    client = _client(served, sandbox, "3")
    comment = client.add_comment("ACM-2", ADF)  # type: ignore[arg-type]
    comment.update(
        body={**ADF, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Done"}]}]}
    )
    stored = sandbox.jira.comments[int(comment.id)]
    assert stored.body["content"][0]["content"][0]["text"] == "Done"


def test_pycontribs_v3_plain_comment_is_rejected(served: str, sandbox: Sandbox) -> None:
    client = _client(served, sandbox, "3")
    with pytest.raises(JIRAError) as raised:
        client.add_comment("ACM-1", "plain")
    assert raised.value.status_code == 400


def test_pycontribs_approximate_count(served: str, sandbox: Sandbox) -> None:
    assert _client(served, sandbox, "3").approximate_issue_count("project = ACM") == 12


def test_pycontribs_token_auth_with_pat(served: str, sandbox: Sandbox) -> None:
    client = JIRA(server=served, token_auth=sandbox.jira_pat, max_retries=0, timeout=10)
    assert client.deploymentType == "Server"
    assert client.issue("BOR-1").key == "BOR-1"
    assert len(client.search_issues("project = BOR", maxResults=4)) == 4


def test_pycontribs_wrong_token_fails_construction_with_401(served: str, sandbox: Sandbox) -> None:
    with pytest.raises(JIRAError) as raised:
        JIRA(server=served, basic_auth=(sandbox.jira_email, "nope"), max_retries=0, timeout=10)
    assert raised.value.status_code == 401
