"""Secrets never leave: not in logs, not in API responses, not in clear in the database."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.logging import configure_logging
from tests.support.api import (
    SOURCE_API_TOKEN,
    SOURCE_WEBHOOK_SECRET,
    bearer,
    make_settings,
    open_test_api,
    seed_world,
    store_of,
)

NEW_SOURCE_TOKEN = "another-known-api-token-5151"
NEW_SOURCE_SECRET = "another-known-webhook-secret-6161"


def _exercise(api: TestClient, admin: str, client_token: str) -> tuple[list[str], str]:
    """Drive the admin and client API the way an operator and a client would; returns the response
    bodies (less the one that hands out a new token) and that new token."""
    admin_headers = bearer(admin)
    bodies = []
    source = {
        "kind": "jira_cloud",
        "name": "second-site",
        "base_url": "http://127.0.0.1:1",
        "email": "ops@example.com",
        "api_token": NEW_SOURCE_TOKEN,
        "webhook_secret": NEW_SOURCE_SECRET,
    }
    created = api.post("/admin/sources", json=source, headers=admin_headers)
    bodies.append(created.text)
    source_id = created.json()["id"]
    for method, url in (
        ("GET", "/admin/sources"),
        ("GET", f"/admin/sources/{source_id}"),
        ("POST", f"/admin/sources/{source_id}/test"),
        ("GET", "/admin/tokens"),
        ("GET", "/v1/projects"),
        ("GET", "/v1/feed"),
        ("GET", "/v1/risks"),
    ):
        headers = admin_headers if url.startswith("/admin") else bearer(client_token)
        bodies.append(api.request(method, url, headers=headers).text)
    bodies.append(api.get("/v1/projects", headers=bearer(client_token + "x")).text)
    clients = api.get("/admin/clients", headers=admin_headers).json()
    issued = api.post(
        "/admin/tokens", json={"name": "n", "client_id": clients[0]["id"]}, headers=admin_headers
    )
    new_token = issued.json()["token"]
    bodies.append(api.get("/v1/projects", headers=bearer(new_token)).text)
    flags = api.get("/admin/flags", headers=admin_headers).json()
    bodies.append(
        api.post(
            f"/admin/flags/{flags[0]['id']}/publish", json={"client_text": "t"}, headers=admin_headers
        ).text
    )
    return bodies, new_token


def test_secrets_never_appear_in_logs_responses_or_the_database(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, allow_private_source_urls=True, log_level="DEBUG")
    configure_logging(settings)
    caplog.set_level(logging.DEBUG)
    with open_test_api(settings) as api:
        world = seed_world(store_of(api))
        bodies, new_token = _exercise(api, world.admin_token, world.tokens["acme"])
    with sqlite3.connect(tmp_path / "pmbridge.db") as connection:
        dump = "\n".join(connection.iterdump())
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    secrets = [
        SOURCE_API_TOKEN,
        SOURCE_WEBHOOK_SECRET,
        NEW_SOURCE_TOKEN,
        NEW_SOURCE_SECRET,
        world.admin_token,
        *world.tokens.values(),
        new_token,
    ]

    assert "second-site" in dump
    assert "admin.flag.published" in logs
    for secret in secrets:
        assert secret not in logs
        assert secret not in dump
        assert all(secret not in body for body in bodies)
