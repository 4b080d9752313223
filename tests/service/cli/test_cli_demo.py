"""The demo end to end, bounded: everything starts, the world changes, and it exits 0 with a summary."""

from __future__ import annotations

import io
import json
import socket

import pytest
from fastapi import FastAPI
from rich.console import Console
from typer.testing import CliRunner

from service.cli import app
from service.cli.demo_run import DemoOptions, _start_api
from service.errors import ConfigurationError


def test_demo_with_a_duration_exits_with_a_json_summary(runner: CliRunner) -> None:
    result = runner.invoke(app, ["demo", "--duration", "6", "--port", "0", "--scenario", "tiny", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"items_synced", "webhooks_processed", "flags_open", "comments_posted", "feed_events"} <= set(
        summary
    )
    assert summary["items_synced"] > 0
    assert summary["flags_open"] > 0
    assert summary["comments_posted"] > 0
    assert summary["feed_events"] > 0
    assert summary["startup_s"] > 0
    assert 6 <= summary["duration_s"] < 6 + 10  # the watch, then one last evaluation


def _options(*, port: int | None, default_port: int) -> DemoOptions:
    return DemoOptions(
        duration_s=1, port=port, default_port=default_port, scenario="tiny", seed=1, as_json=True
    )


def test_demo_api_with_its_default_port_taken_listens_on_a_free_port_and_says_so() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        default_port = taken.getsockname()[1]
        console = Console(file=io.StringIO(), width=200)

        server = _start_api(FastAPI(), _options(port=None, default_port=default_port), console).start()
        try:
            assert server.port not in (0, default_port)
            output = console.file.getvalue()  # type: ignore[attr-defined]
            assert f"port {default_port} is taken" in output
            assert f"port {server.port} instead" in output
        finally:
            server.close()


def test_demo_api_on_a_port_asked_for_and_taken_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(ConfigurationError, match=f"cannot listen on 127.0.0.1:{port}"):
            _start_api(FastAPI(), _options(port=port, default_port=8000), Console(file=io.StringIO()))
