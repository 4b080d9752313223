"""Request ids and request metrics: every response carries an id, every log line of the request too,
and every request is counted under its route template."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import structlog
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.middleware import REQUEST_ID_HEADER
from service.metrics import REGISTRY
from service.settings import Settings
from tests.support.fakes import RecordingEnqueuer
from tests.support.sources import JIRA_WEBHOOK_SECRET

BODY = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "A-1"}}).encode()


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def post_delivery(
    client: TestClient, source_id: int, *, delivery: str, secret: str = JIRA_WEBHOOK_SECRET
) -> int:
    signature = "sha256=" + hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
    response = client.post(
        f"/webhooks/jira/{source_id}",
        content=BODY,
        headers={"X-Hub-Signature": signature, "X-Atlassian-Webhook-Identifier": delivery},
    )
    return response.status_code


def test_request_id_given_by_the_caller_is_returned(client: TestClient) -> None:
    response = client.get("/healthz", headers={REQUEST_ID_HEADER: "edge-42.a"})

    assert response.headers[REQUEST_ID_HEADER] == "edge-42.a"


def test_request_id_absent_is_generated_per_request(client: TestClient) -> None:
    first = client.get("/healthz").headers[REQUEST_ID_HEADER]
    second = client.get("/healthz").headers[REQUEST_ID_HEADER]

    assert len(first) == 32 and first != second


@pytest.mark.parametrize(
    "given",
    ["has spaces", "x" * 129, "semi;colon", "new\\nline"],
    ids=["spaces", "too-long", "semicolon", "escaped-newline"],
)
def test_request_id_unsafe_is_replaced_by_a_new_one(client: TestClient, given: str) -> None:
    response = client.get("/healthz", headers={REQUEST_ID_HEADER: given})

    assert response.headers[REQUEST_ID_HEADER] != given
    assert len(response.headers[REQUEST_ID_HEADER]) == 32


def test_request_id_is_on_the_error_responses_too(client: TestClient) -> None:
    response = client.get("/no/such/route", headers={REQUEST_ID_HEADER: "lost-1"})

    assert response.status_code == 404
    assert response.headers[REQUEST_ID_HEADER] == "lost-1"


def test_request_id_is_on_an_unexpected_errors_answer_and_its_log_line(
    api_settings: Settings, enqueuer: RecordingEnqueuer
) -> None:
    app = create_app(api_settings, enqueuer=enqueuer)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    with (
        TestClient(app, raise_server_exceptions=False) as client,
        structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs,
    ):
        response = client.get("/boom", headers={REQUEST_ID_HEADER: "bug-9"})

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers[REQUEST_ID_HEADER] == "bug-9"
    failed = [line for line in logs if line["event"] == "api.request.failed"]
    assert [line["request_id"] for line in failed] == ["bug-9"]


def test_request_id_is_bound_to_log_lines_of_the_request(client: TestClient, jira_source_id: int) -> None:
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        client.post(
            f"/webhooks/jira/{jira_source_id}",
            content=BODY,
            headers={"X-Hub-Signature": "sha256=00", REQUEST_ID_HEADER: "trace-7"},
        )

    rejected = [line for line in logs if line["event"] == "webhook.delivery.rejected"]
    assert [line["request_id"] for line in rejected] == ["trace-7"]


def test_request_id_is_not_left_bound_after_the_request(client: TestClient) -> None:
    client.get("/healthz", headers={REQUEST_ID_HEADER: "gone-after"})

    assert "request_id" not in structlog.contextvars.get_contextvars()


def test_requests_are_counted_by_route_template_not_path(client: TestClient, jira_source_id: int) -> None:
    labels = {"method": "POST", "route": "/webhooks/jira/{source_id}", "status": "202"}
    before = sample("pmbridge_http_requests_total", labels)

    post_delivery(client, jira_source_id, delivery="count-1")
    post_delivery(client, jira_source_id, delivery="count-2")

    assert sample("pmbridge_http_requests_total", labels) - before == 2


def test_requests_to_no_route_are_counted_as_unmatched(client: TestClient) -> None:
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    before = sample("pmbridge_http_requests_total", labels)

    client.get("/no/such/route/123")

    assert sample("pmbridge_http_requests_total", labels) - before == 1


def test_metrics_counts_webhook_deliveries_by_outcome(client: TestClient, jira_source_id: int) -> None:
    outcomes = ("accepted", "duplicate", "rejected")
    before = {
        o: sample("pmbridge_webhook_deliveries_total", {"provider": "jira", "outcome": o}) for o in outcomes
    }

    statuses = [
        post_delivery(client, jira_source_id, delivery="once"),
        post_delivery(client, jira_source_id, delivery="once"),
        post_delivery(client, jira_source_id, delivery="forged", secret="not-the-secret"),
    ]

    after = {
        o: sample("pmbridge_webhook_deliveries_total", {"provider": "jira", "outcome": o}) for o in outcomes
    }
    assert statuses == [202, 200, 401]
    assert {o: after[o] - before[o] for o in outcomes} == {"accepted": 1, "duplicate": 1, "rejected": 1}


def test_metrics_reports_inbox_depth_from_the_database(client: TestClient, jira_source_id: int) -> None:
    for n in range(3):
        post_delivery(client, jira_source_id, delivery=f"depth-{n}")

    text = client.get("/metrics").text

    assert 'pmbridge_inbox_rows{status="pending"} 3.0' in text
    assert 'pmbridge_inbox_rows{status="dead"} 0.0' in text


def test_metrics_reports_every_outbox_status_and_flag_state(client: TestClient) -> None:
    text = client.get("/metrics").text

    assert 'pmbridge_outbox_rows{status="pending"} 0.0' in text
    assert 'pmbridge_flags{severity="critical",state="open"} 0.0' in text


def test_metrics_answers_the_prometheus_text_format(client: TestClient) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE pmbridge_http_requests_total counter" in response.text
