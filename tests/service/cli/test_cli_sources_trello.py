"""`pmbridge sources add trello` and `pmbridge sync` of a Trello source, against the sandbox."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.domain.enums import SourceKind
from service.settings import DATABASE_FILE, Settings
from service.store.runtime import open_store
from tests.support.sources import add_test_source
from tests.support.trello_sandbox import TrelloSandbox, serve_trello_sandbox

PUBLIC_URL = "https://pmbridge.agency.example"


@pytest.fixture
def trello_sandbox() -> Iterator[TrelloSandbox]:
    with serve_trello_sandbox("tiny", seed=7) as sandbox:
        yield sandbox


def add_args(trello_sandbox: TrelloSandbox, *extra: str) -> list[str]:
    sandbox = trello_sandbox.sandbox
    return [
        "sources", "add", "trello",
        "--name", "agency-trello",
        "--base-url", trello_sandbox.base_url,
        "--api-key", sandbox.trello_api_key,
        "--token", sandbox.trello_token,
        "--app-secret", sandbox.trello_app_secret,
        "--allow-private",
        *extra,
    ]  # fmt: skip


def test_sources_add_trello_without_public_url_says_how_to_get_webhooks(
    runner: CliRunner, trello_sandbox: TrelloSandbox
) -> None:
    result = runner.invoke(app, add_args(trello_sandbox))

    assert result.exit_code == 0, result.output
    assert "PMBRIDGE_PUBLIC_URL" in result.stdout
    assert trello_sandbox.world.webhooks == {}


def test_sources_add_trello_with_public_url_registers_a_webhook_per_board(
    runner: CliRunner, trello_sandbox: TrelloSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMBRIDGE_PUBLIC_URL", PUBLIC_URL)
    trello_sandbox.world.verify_callback = lambda _url: 200

    result = runner.invoke(app, add_args(trello_sandbox, "--json"))

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    callback = f"{PUBLIC_URL}/webhooks/trello/{printed['id']}"
    assert printed["callback_url"] == callback
    hooks = trello_sandbox.world.webhooks.values()
    assert sorted(hook.id_model for hook in hooks) == sorted(trello_sandbox.world.boards)
    assert {hook.callback_url for hook in hooks} == {callback}


def test_sources_add_trello_with_a_bad_token_fails_and_stores_nothing(
    runner: CliRunner, trello_sandbox: TrelloSandbox
) -> None:
    args = add_args(trello_sandbox)
    args[args.index("--token") + 1] = "ATTA-not-a-token"

    result = runner.invoke(app, args)
    listed = runner.invoke(app, ["sources", "list", "--json"])

    assert result.exit_code == 1
    assert "cannot connect to Trello" in result.stderr
    assert json.loads(listed.stdout) == []


def test_sync_of_a_trello_source_prints_its_summary(runner: CliRunner, trello_sandbox: TrelloSandbox) -> None:
    added = json.loads(runner.invoke(app, add_args(trello_sandbox, "--json")).stdout)

    result = runner.invoke(app, ["sync", "--source", str(added["id"]), "--full", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["items_seen"]) == ("succeeded", len(trello_sandbox.snapshot()))


def test_sources_add_trello_reads_secrets_given_as_dash_from_stdin(
    runner: CliRunner, trello_sandbox: TrelloSandbox
) -> None:
    sandbox = trello_sandbox.sandbox
    args = add_args(trello_sandbox)
    args[args.index("--token") + 1] = "-"
    args[args.index("--app-secret") + 1] = "-"

    result = runner.invoke(app, args, input=f"{sandbox.trello_token}\n{sandbox.trello_app_secret}\n")

    assert result.exit_code == 0, result.output
    assert sandbox.trello_token not in " ".join(args)


def test_sources_add_trello_takes_its_secrets_from_the_environment_alone(
    runner: CliRunner, trello_sandbox: TrelloSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = trello_sandbox.sandbox
    monkeypatch.setenv("PMBRIDGE_TRELLO_TOKEN", sandbox.trello_token)
    monkeypatch.setenv("PMBRIDGE_TRELLO_SECRET", sandbox.trello_app_secret)
    args = add_args(trello_sandbox)
    for option in ("--token", "--app-secret"):
        at = args.index(option)
        del args[at : at + 2]

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output


def test_sources_add_trello_dash_without_a_line_on_stdin_fails_with_usage(
    runner: CliRunner, trello_sandbox: TrelloSandbox
) -> None:
    args = add_args(trello_sandbox)
    args[args.index("--token") + 1] = "-"

    result = runner.invoke(app, args, input="")

    assert result.exit_code == 2
    assert "--token - expects the secret on stdin" in result.stderr


def test_sources_add_trello_on_loopback_without_the_opt_in_is_refused_and_stores_nothing(
    runner: CliRunner, trello_sandbox: TrelloSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS", raising=False)
    args = [arg for arg in add_args(trello_sandbox) if arg != "--allow-private"]

    result = runner.invoke(app, args)
    listed = runner.invoke(app, ["sources", "list", "--json"])

    assert result.exit_code != 0
    assert "must use https" in result.stderr
    assert json.loads(listed.stdout) == []


def test_sources_add_trello_with_the_opt_in_says_so_and_the_source_records_it(
    runner: CliRunner, trello_sandbox: TrelloSandbox
) -> None:
    result = runner.invoke(app, add_args(trello_sandbox, "--json"))

    assert result.exit_code == 0, result.output
    assert "allowing a private address or plain http" in result.stderr


def test_sources_add_trello_records_the_effort_fields(
    runner: CliRunner, trello_sandbox: TrelloSandbox, tmp_path: Path
) -> None:
    args = add_args(trello_sandbox, "--spent-field", "Time spent (h)", "--estimate-field", "Estimate (h)")

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "data" / DATABASE_FILE) as db:
        (settings,) = db.execute("SELECT settings FROM sources").fetchone()
    recorded = json.loads(settings)
    assert (recorded["spent_field"], recorded["estimate_field"]) == ("Time spent (h)", "Estimate (h)")


def test_sources_add_trello_refuses_a_blank_effort_field(
    runner: CliRunner, trello_sandbox: TrelloSandbox
) -> None:
    result = runner.invoke(app, add_args(trello_sandbox, "--spent-field", " "))
    listed = runner.invoke(app, ["sources", "list", "--json"])

    assert result.exit_code == 2
    assert "spent_field" in result.stderr
    assert json.loads(listed.stdout) == []


def test_sources_webhooks_confirms_the_webhooks_of_a_trello_source(
    runner: CliRunner, trello_sandbox: TrelloSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMBRIDGE_PUBLIC_URL", PUBLIC_URL)
    trello_sandbox.world.verify_callback = lambda _url: 200
    added = json.loads(runner.invoke(app, add_args(trello_sandbox, "--json")).stdout)

    result = runner.invoke(app, ["sources", "webhooks", "--source", str(added["id"]), "--json"])

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == {
        "id": added["id"],
        "webhooks": added["webhooks"],
        "callback_url": added["callback_url"],
    }
    assert len(trello_sandbox.world.webhooks) == len(trello_sandbox.world.boards)


def test_sources_webhooks_of_a_jira_source_says_its_administrator_sets_them_up(runner: CliRunner) -> None:
    store = open_store(Settings())
    try:
        source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="acme-jira", webhook_secret="s")
    finally:
        store.close()

    result = runner.invoke(app, ["sources", "webhooks", "--source", str(source_id)])

    assert result.exit_code == 1
    assert "set up by its administrator" in result.stderr
