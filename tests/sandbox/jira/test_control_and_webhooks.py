from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from sandbox.app import Sandbox
from sandbox.emit import CollectingSink
from sandbox.jira.model import Issue

CONTROL = "/_sandbox/jira"


def _hook(api: TestClient, **extra: Any) -> dict[str, Any]:
    response = api.post(f"{CONTROL}/webhooks", json={"url": "https://pmbridge.test/webhooks/jira/1", **extra})
    assert response.status_code == 201
    return dict(response.json())


def _payload(deliveries: CollectingSink, index: int = -1) -> dict[str, Any]:
    return dict(orjson.loads(deliveries.deliveries[index].body))


@pytest.mark.parametrize(
    ("path", "body", "item"),
    [
        (
            "status",
            {"status": "In Progress"},
            {"field": "status", "fieldId": "status", "toString": "In Progress"},
        ),
        (
            "duedate",
            {"duedate": "2026-04-01"},
            {"field": "duedate", "to": "2026-04-01", "toString": "2026-04-01 00:00:00.0"},
        ),
        (
            "flag",
            {"flagged": True},
            {
                "field": "Flagged",
                "fieldtype": "custom",
                "fieldId": "customfield_10021",
                "toString": "Impediment",
            },
        ),
    ],
    ids=["status", "duedate", "flag"],
)
def test_control_mutation_records_changelog_item(
    api: TestClient, new_issue: Callable[..., Issue], path: str, body: dict[str, Any], item: dict[str, str]
) -> None:
    issue = new_issue()
    response = api.post(f"{CONTROL}/issues/{issue.key}/{path}", json=body)
    assert response.json()["changed"] is True
    recorded = api.get(f"/rest/api/3/issue/{issue.key}/changelog").json()["values"][-1]["items"][0]
    assert {k: recorded[k] for k in item} == item


def test_control_assignee_records_account_ids_and_names(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    account = next(u for u in sandbox.jira.users.values() if u.account_id != sandbox.jira.current_account_id)
    api.post(f"{CONTROL}/issues/{issue.key}/assignee", json={"assignee": account.account_id})
    item = issue.histories[-1].items[0]
    assert (item.field, item.to, item.to_string, item.from_) == (
        "assignee",
        account.account_id,
        account.display_name,
        None,
    )


def test_control_milestone_records_fix_version_add_and_remove(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    project = next(
        p
        for p in sandbox.jira.projects.values()
        if sum(v.project_id == p.id for v in sandbox.jira.versions.values()) >= 2
    )
    issue = new_issue(project=project.key)
    first, second = [v for v in sandbox.jira.versions.values() if v.project_id == project.id][:2]
    api.post(f"{CONTROL}/issues/{issue.key}/milestone", json={"milestone": first.name})
    api.post(f"{CONTROL}/issues/{issue.key}/milestone", json={"milestone": str(second.id)})
    items = issue.histories[-1].items
    assert [(i.field, i.from_, i.to) for i in items] == [
        ("Fix Version", str(first.id), None),
        ("Fix Version", None, str(second.id)),
    ]


def test_control_reopen_clears_resolution(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue()
    api.post(f"{CONTROL}/issues/{issue.key}/status", json={"status": "Done"})
    api.post(f"{CONTROL}/issues/{issue.key}/status", json={"status": "In Progress"})
    fields = api.get(f"/rest/api/3/issue/{issue.key}", params={"fields": "resolution,resolutiondate"}).json()[
        "fields"
    ]
    assert fields == {"resolution": None, "resolutiondate": None}
    assert [i.field for i in issue.histories[-1].items] == ["status", "resolution"]


def test_control_unchanged_value_records_nothing(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    issue = new_issue()
    response = api.post(f"{CONTROL}/issues/{issue.key}/status", json={"status": "To Do"})
    assert response.json()["changed"] is False
    assert issue.histories == []


def test_control_unknown_status_answers_400(api: TestClient, new_issue: Callable[..., Issue]) -> None:
    response = api.post(f"{CONTROL}/issues/{new_issue().key}/status", json={"status": "Shipped"})
    assert response.status_code == 400


def test_control_create_comment_and_delete_issue(api: TestClient, sandbox: Sandbox) -> None:
    created = api.post(
        f"{CONTROL}/issues", json={"project": "BOR", "summary": "From control", "type": "Bug"}
    ).json()
    api.post(f"{CONTROL}/issues/{created['key']}/comments", json={"text": "hello"})
    comments = api.get(f"/rest/api/2/issue/{created['key']}/comment").json()["comments"]
    deleted = api.delete(f"{CONTROL}/issues/{created['key']}")
    assert comments[0]["body"] == "hello"
    assert deleted.status_code == 200
    assert created["key"] not in sandbox.jira.issue_by_key


def test_control_worklogs_log_change_and_delete_work(
    api: TestClient, sandbox: Sandbox, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    logged = api.post(
        f"{CONTROL}/issues/{issue.key}/worklogs",
        json={"seconds": 7200, "started": "2026-02-27T10:00:00+01:00"},
    )
    worklog_id = int(logged.json()["id"])
    changed = api.patch(f"{CONTROL}/worklogs/{worklog_id}", json={"seconds": 3600})
    spent_after_change = issue.time_spent_s
    deleted = api.delete(f"{CONTROL}/worklogs/{worklog_id}")
    assert (logged.status_code, changed.status_code, deleted.status_code) == (201, 200, 200)
    assert spent_after_change == 3600
    assert worklog_id not in sandbox.jira.worklogs
    assert worklog_id in sandbox.jira.deleted_worklogs


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"seconds": 0},
        {"seconds": "1h"},
        {"seconds": 60, "started": "yesterday"},
        {"seconds": 60, "started": "2026-02-27T10:00:00"},
    ],
    ids=["no-seconds", "zero", "text", "bad-started", "naive-started"],
)
def test_control_worklog_bad_body_answers_400(
    api: TestClient, new_issue: Callable[..., Issue], body: dict[str, object]
) -> None:
    response = api.post(f"{CONTROL}/issues/{new_issue().key}/worklogs", json=body)
    assert response.status_code == 400
    assert response.json()["error"]


def test_control_unknown_worklog_answers_404(api: TestClient) -> None:
    assert api.delete(f"{CONTROL}/worklogs/999999").status_code == 404


def test_webhook_issue_updated_is_signed_with_hub_signature(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, new_issue: Callable[..., Issue],
    sign: Callable[[str, bytes], str],
) -> None:  # fmt: skip
    issue = new_issue()
    _hook(api)
    api.post(f"{CONTROL}/issues/{issue.key}/status", json={"status": "Done"})
    delivery = deliveries.deliveries[-1]
    assert delivery.headers["X-Hub-Signature"] == sign(sandbox.jira_webhook_secret, delivery.body)
    assert delivery.headers["X-Atlassian-Webhook-Identifier"].isdigit()
    assert delivery.headers["X-Atlassian-Webhook-Flow"] == "Primary"
    assert delivery.retry_headers == {"X-Atlassian-Webhook-Retry": "{attempt}"}
    payload = _payload(deliveries)
    assert payload["webhookEvent"] == "jira:issue_updated"
    assert payload["issue_event_type_name"] == "issue_generic"
    assert payload["issue"]["self"].startswith(f"{sandbox.jira.site_url}/rest/api/2/issue/")
    assert [i["field"] for i in payload["changelog"]["items"]] == ["status", "resolution"]


def test_webhook_with_own_secret_signs_with_it(
    api: TestClient,
    deliveries: CollectingSink,
    new_issue: Callable[..., Issue],
    sign: Callable[[str, bytes], str],
) -> None:
    issue = new_issue()
    _hook(api, secret="s3cret")
    api.post(f"{CONTROL}/issues/{issue.key}/duedate", json={"duedate": "2026-05-05"})
    delivery = deliveries.deliveries[-1]
    assert delivery.headers["X-Hub-Signature"] == sign("s3cret", delivery.body)


def test_webhook_jql_filter_skips_other_projects(
    api: TestClient, deliveries: CollectingSink, new_issue: Callable[..., Issue]
) -> None:
    _hook(api, jql="project = BOR")
    issue = new_issue(project="ACM")
    api.post(f"{CONTROL}/issues/{issue.key}/status", json={"status": "Done"})
    assert deliveries.deliveries == []


def test_webhook_comment_created_carries_text_body_and_trimmed_issue(
    api: TestClient, deliveries: CollectingSink, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    _hook(api, events=["comment_created"])
    api.post(f"{CONTROL}/issues/{issue.key}/comments", json={"text": "Client signed off"})
    payload = _payload(deliveries)
    assert payload["webhookEvent"] == "comment_created"
    assert payload["comment"]["body"] == "Client signed off"
    assert set(payload["issue"]["fields"]) == {
        "summary",
        "issuetype",
        "project",
        "assignee",
        "priority",
        "status",
    }


def test_control_comment_edit_and_delete_send_their_webhooks_and_move_updated(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    comment_id = api.post(f"{CONTROL}/issues/{issue.key}/comments", json={"text": "Draft"}).json()["id"]
    _hook(api, events=["comment_updated", "comment_deleted"])
    sandbox.clock.advance(timedelta(minutes=5))

    edited = api.patch(f"{CONTROL}/comments/{comment_id}", json={"text": "Final"})
    listed = api.get(f"/rest/api/2/issue/{issue.key}/comment").json()["comments"]
    updated_after_edit = sandbox.jira.issues[issue.id].updated_ms
    deleted = api.delete(f"{CONTROL}/comments/{comment_id}")

    assert edited.status_code == deleted.status_code == 200
    assert (listed[0]["body"], listed[0]["updated"] > listed[0]["created"]) == ("Final", True)
    assert updated_after_edit == edited.json()["updated"]
    assert api.get(f"/rest/api/2/issue/{issue.key}/comment").json()["comments"] == []
    assert [_payload(deliveries, n)["webhookEvent"] for n in range(2)] == [
        "comment_updated",
        "comment_deleted",
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PATCH", "/comments/999999", {"text": "x"}, 404),
        ("PATCH", "/comments/COMMENT", {"text": ""}, 400),
        ("DELETE", "/comments/999999", None, 404),
    ],
    ids=["edit-unknown", "edit-empty", "delete-unknown"],
)
def test_control_comment_refusals_answer_json_errors(
    api: TestClient,
    new_issue: Callable[..., Issue],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    issue = new_issue()
    comment_id = api.post(f"{CONTROL}/issues/{issue.key}/comments", json={"text": "Draft"}).json()["id"]

    response = api.request(method, CONTROL + path.replace("COMMENT", comment_id), json=body)

    assert response.status_code == status
    assert "error" in response.json()


def test_webhook_issue_deleted_then_secondary_comment_deleted(
    api: TestClient, sandbox: Sandbox, deliveries: CollectingSink, new_issue: Callable[..., Issue]
) -> None:
    issue = new_issue()
    sandbox.jira.add_comment(issue, {"type": "doc", "version": 1, "content": []})
    _hook(api, events=["jira:issue_deleted", "comment_deleted"])
    api.delete(f"{CONTROL}/issues/{issue.key}")
    events = [
        (orjson.loads(d.body)["webhookEvent"], d.headers["X-Atlassian-Webhook-Flow"])
        for d in deliveries.deliveries
    ]
    assert events == [("jira:issue_deleted", "Primary"), ("comment_deleted", "Secondary")]


def test_admin_webhook_rest_registration_lists_and_deletes(
    api: TestClient, deliveries: CollectingSink, new_issue: Callable[..., Issue]
) -> None:
    body = {
        "name": "pmbridge",
        "url": "https://pmbridge.test/hook",
        "events": ["jira:issue_created"],
        "filters": {"issue-related-events-section": "project = ACM"},
        "secret": "abc",
    }
    created = api.post("/rest/webhooks/1.0/webhook", json=body)
    assert created.status_code == 201
    assert created.json()["enabled"] is True
    new_issue()
    listed = api.get("/rest/webhooks/1.0/webhook").json()
    webhook_id = created.json()["self"].rsplit("/", 1)[1]
    assert api.delete(f"/rest/webhooks/1.0/webhook/{webhook_id}").status_code == 204
    assert [w["name"] for w in listed] == ["pmbridge"]
    assert orjson.loads(deliveries.deliveries[-1].body)["webhookEvent"] == "jira:issue_created"


def test_dynamic_webhooks_for_oauth_app_register_refresh_and_delete(
    anonymous: TestClient, sandbox: Sandbox
) -> None:
    headers = {"Authorization": f"Bearer {sandbox.jira_oauth_token}"}
    body = {
        "url": "https://app.test/hook",
        "webhooks": [
            {"events": ["jira:issue_updated"], "jqlFilter": "project = ACM"},
            {"events": ["jira:issue_updated"]},
        ],
    }
    registered = anonymous.post("/rest/api/3/webhook", json=body, headers=headers).json()[
        "webhookRegistrationResult"
    ]
    webhook_id = registered[0]["createdWebhookId"]
    listed = anonymous.get("/rest/api/3/webhook", headers=headers).json()
    refreshed = anonymous.put(
        "/rest/api/3/webhook/refresh", json={"webhookIds": [webhook_id]}, headers=headers
    )
    deleted = anonymous.request(
        "DELETE", "/rest/api/3/webhook", json={"webhookIds": [webhook_id]}, headers=headers
    )
    assert "errors" in registered[1]
    assert listed["values"][0]["jqlFilter"] == "project = ACM"
    assert refreshed.json()["expirationDate"] > sandbox.jira.now_ms()
    assert deleted.status_code == 202


def test_control_settings_toggle_rate_limits(api: TestClient) -> None:
    body = api.post(f"{CONTROL}/settings", json={"rateLimitsEnabled": False, "searchLagSeconds": 1.5}).json()
    assert (body["rateLimitsEnabled"], body["searchLagSeconds"]) == (False, 1.5)
