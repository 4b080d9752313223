"""The demo end to end, bounded: everything starts, the world changes, and it exits 0 with a summary."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from service.cli import app


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
