from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from starlette.testclient import TestClient

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer


def test_status_describes_credentials_and_control_url(api: TestClient, sandbox: Sandbox) -> None:
    body = api.get("/_sandbox/").json()
    assert body["jira"]["base_url"] == "https://sandbox.test"
    assert body["jira"]["email"] == sandbox.jira_email
    assert body["jira"]["projects"] == ["ACM", "BOR"]
    assert body["control_url"] == "https://sandbox.test/_sandbox"
    assert body["trello"] is None


def test_clock_advance_moves_sandbox_time(api: TestClient, sandbox: Sandbox) -> None:
    before = sandbox.clock.now()
    body = api.post("/_sandbox/clock/advance", json={"days": 1, "hours": 2}).json()
    assert datetime.fromisoformat(body["now"]) - before == (sandbox.clock.now() - before)
    assert (sandbox.clock.now() - before).total_seconds() == 26 * 3600


def test_clock_advance_backwards_answers_400(api: TestClient) -> None:
    assert api.post("/_sandbox/clock/advance", json={"minutes": -1}).status_code == 400


def test_control_delivery_options_round_trip(api: TestClient) -> None:
    body = api.post("/_sandbox/webhooks/delivery", json={"duplicate": 0.5, "reorder_window": 3}).json()
    assert (body["duplicate"], body["reorder_window"], body["delay_s"]) == (0.5, 3, 0.0)


def test_jira_webhook_reaches_a_callback_signed_over_loopback(
    receiver: Any, sign: Callable[[str, bytes], str]
) -> None:
    sandbox = build_sandbox("tiny", 2, now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), with_trello=False)
    with (
        sandbox.dispatcher,
        LoopbackServer(create_sandbox_app(sandbox)) as server,
        httpx.Client(base_url=f"{server.base_url}/_sandbox") as control,
    ):
        sandbox.bind(server.base_url)
        control.post("/jira/webhooks", json={"url": receiver.url, "events": ["jira:issue_updated"]})
        control.post("/jira/issues/ACM-1/duedate", json={"duedate": "2026-12-24"})
        assert sandbox.dispatcher.flush()
        attempts = control.get("/webhooks/attempts").json()
    headers, body = receiver.received[0]
    payload = orjson.loads(body)
    assert headers["x-hub-signature"] == sign(sandbox.jira_webhook_secret, body)
    assert headers["user-agent"] == "Atlassian Webhook HTTP Client"
    assert payload["issue"]["self"].startswith(f"{server.base_url}/rest/api/2/issue/")
    assert payload["changelog"]["items"][0]["toString"] == "2026-12-24 00:00:00.0"
    assert attempts == [{"url": receiver.url, "provider": "jira", "attempt": 0, "status": 200, "error": None}]


def test_sandbox_serves_https_with_a_certificate(tmp_path: Any, sandbox: Sandbox) -> None:
    import trustme  # noqa: PLC0415 - only this test needs TLS material

    authority = trustme.CA()
    cert = authority.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(cert_file)
    cert.private_key_pem.write_to_path(key_file)
    trust = ssl.create_default_context()
    authority.configure_trust(trust)
    with LoopbackServer(
        create_sandbox_app(sandbox), tls_cert=str(cert_file), tls_key=str(key_file)
    ) as server:
        response = httpx.get(f"{server.base_url}/rest/api/3/serverInfo", verify=trust)
    assert server.base_url.startswith("https://")
    assert response.json()["baseUrl"] == server.base_url


def test_loopback_responses_are_not_held_back_by_nagle() -> None:
    """A response body written after its headers must not wait for the client's delayed ACK (~40 ms
    on Linux): the server's sockets are TCP sockets with Nagle's algorithm off."""
    sandbox = build_sandbox("tiny", 2, now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), with_trello=False)
    auth = (sandbox.jira_email, sandbox.jira_api_token)
    with LoopbackServer(create_sandbox_app(sandbox)) as server, httpx.Client(auth=auth) as client:
        client.get(f"{server.base_url}/rest/api/3/serverInfo").raise_for_status()
        took: list[float] = []
        for _ in range(9):
            started = time.perf_counter()
            client.get(f"{server.base_url}/rest/api/3/serverInfo").raise_for_status()
            took.append(time.perf_counter() - started)
    assert sorted(took)[len(took) // 2] < 0.03
