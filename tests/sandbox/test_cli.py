from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
from typer.testing import CliRunner

from sandbox.cli import sandbox_app

LAUNCH = "from sandbox.cli import sandbox_app; sandbox_app()"
ROOT = Path(__file__).resolve().parents[3]


@contextmanager
def _serve(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(  # noqa: S603 - fixed argv of this interpreter
        [sys.executable, "-c", LAUNCH, "serve", "--port", "0", "--scenario", "tiny", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_json_first_line_describes_both_apis() -> None:
    with _serve("--json", "--seed", "3") as (_, line):
        info: dict[str, Any] = orjson.loads(line)
        assert set(info) == {"jira", "trello", "control_url"}
        assert {"base_url", "email", "api_token", "webhook_secret"} <= set(info["jira"])
        assert {"base_url", "api_key", "token", "app_secret"} <= set(info["trello"])
        jira = info["jira"]
        served = httpx.get(
            f"{jira['base_url']}/rest/api/3/search/jql",
            params={"jql": "project = ACM"},
            auth=(jira["email"], jira["api_token"]),
        )
        requests = httpx.get(f"{info['control_url']}/requests").json()
    assert served.status_code == 200
    assert info["control_url"] == f"{jira['base_url']}/_sandbox"
    assert requests == {"total": 1, "by_route": {"GET /rest/api/3/search/jql": 1}}


def test_serve_same_seed_announces_same_credentials() -> None:
    with _serve("--json", "--seed", "5") as (_, first):
        pass
    with _serve("--json", "--seed", "5") as (_, second):
        pass
    assert orjson.loads(first)["jira"]["api_token"] == orjson.loads(second)["jira"]["api_token"]


def test_serve_without_json_prints_base_urls_for_people() -> None:
    with _serve() as (process, first_line):
        assert process.stdout is not None
        lines = [first_line] + [process.stdout.readline() for _ in range(3)]
    assert first_line.startswith("sandbox: scenario tiny")
    assert any(line.startswith("Jira     base URL http://127.0.0.1:") for line in lines)


def test_serve_on_all_interfaces_hands_out_its_public_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    public = "http://sandbox.test:8765"
    everywhere = "0.0.0.0"  # noqa: S104 - what a container binds; the test reaches it on loopback
    with _serve("--json", "--host", everywhere, "--port", str(port), "--public-url", public) as (_, line):
        info: dict[str, Any] = orjson.loads(line)
        served = httpx.get(f"http://127.0.0.1:{port}/_sandbox/requests")
    assert info["jira"]["base_url"] == public
    assert info["control_url"] == f"{public}/_sandbox"
    assert served.status_code == 200


def test_serve_public_url_without_a_scheme_is_refused() -> None:
    result = CliRunner().invoke(sandbox_app, ["serve", "--public-url", "sandbox:8765"])
    assert result.exit_code != 0


def test_serve_tls_cert_without_key_is_refused() -> None:
    result = CliRunner().invoke(sandbox_app, ["serve", "--tls-cert", "cert.pem"])
    assert result.exit_code != 0
