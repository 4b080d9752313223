"""`pmbridge clients` and `pmbridge tokens`, with --json."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from service.cli import app
from service.domain.enums import ItemKind, SourceKind, StatusCategory
from service.domain.work import Project, WorkItem
from service.settings import Settings
from service.store.db import transaction
from service.store.items import upsert_work_items
from service.store.orm import FeedEventRow
from service.store.projects import upsert_projects
from service.store.runtime import open_store
from service.store.tenancy import find_token_by_hash, hash_token
from tests.support.sources import add_test_source


def _store_with_project() -> None:
    store = open_store(Settings(data_dir=Path(os.environ["PMBRIDGE_DATA_DIR"])))
    try:
        source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="site", webhook_secret=None)
        with transaction(store.sessions) as session:
            upsert_projects(
                session, projects=[Project(source_id=source_id, external_id="1", key="WEB", name="Web")]
            )
    finally:
        store.close()


def _json(runner: CliRunner, *args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def test_clients_add_prints_the_new_client(runner: CliRunner) -> None:
    created = _json(runner, "clients", "add", "acme")

    assert created["name"] == "acme"
    assert isinstance(created["id"], int)


def test_clients_add_twice_exits_with_the_conflict(runner: CliRunner) -> None:
    runner.invoke(app, ["clients", "add", "acme"])

    result = runner.invoke(app, ["clients", "add", "acme"])

    assert result.exit_code == 1
    assert "exists already" in result.stderr


def test_clients_scope_with_a_filter_is_stored(runner: CliRunner) -> None:
    runner.invoke(app, ["clients", "add", "acme"])
    _store_with_project()

    scope = _json(
        runner, "clients", "scope", "acme", "--project", "WEB", "--filter", "label:client -kind:bug"
    )

    assert (scope["rule"], scope["value"]) == ("filter", "label:client -kind:bug")


def test_clients_scope_fills_the_clients_feed_at_once(runner: CliRunner) -> None:
    runner.invoke(app, ["clients", "add", "acme"])
    _store_with_project()
    done_at = datetime.now(UTC) - timedelta(days=1)
    store = open_store(Settings(data_dir=Path(os.environ["PMBRIDGE_DATA_DIR"])))
    try:
        with transaction(store.sessions) as session:
            upsert_work_items(
                session,
                source_id=1,
                items=[
                    WorkItem(
                        source_id=1,
                        project_external_id="1",
                        external_id="10001",
                        key="WEB-1",
                        title="Checkout",
                        kind=ItemKind.STORY,
                        status="Done",
                        status_category=StatusCategory.DONE,
                        created_at=done_at - timedelta(days=3),
                        updated_at=done_at,
                        resolved_at=done_at,
                    )
                ],
            )
    finally:
        store.close()

    _json(runner, "clients", "scope", "acme", "--project", "WEB")

    store = open_store(Settings(data_dir=Path(os.environ["PMBRIDGE_DATA_DIR"])))
    try:
        with store.sessions() as session:
            summaries = list(session.scalars(select(FeedEventRow.summary)))
    finally:
        store.close()
    assert summaries == ["WEB-1 done: Checkout"]


def test_clients_scope_unknown_project_exits_1(runner: CliRunner) -> None:
    runner.invoke(app, ["clients", "add", "acme"])

    result = runner.invoke(app, ["clients", "scope", "acme", "--project", "NOPE"])

    assert result.exit_code == 1
    assert "no project with key" in result.stderr


def test_tokens_create_prints_the_token_once_and_stores_its_hash(runner: CliRunner) -> None:
    runner.invoke(app, ["clients", "add", "acme"])

    created = _json(runner, "tokens", "create", "--client", "acme")

    token = str(created["token"])
    assert token.startswith("pmb_")
    store = open_store(Settings(data_dir=Path(os.environ["PMBRIDGE_DATA_DIR"])))
    with store.sessions() as session:
        stored = find_token_by_hash(session, token_hash=hash_token(token))
    store.close()
    assert stored is not None
    assert stored.id == created["id"]


def test_tokens_create_needs_client_or_admin(runner: CliRunner) -> None:
    result = runner.invoke(app, ["tokens", "create"])

    assert result.exit_code == 2


def test_tokens_revoke_marks_the_token_revoked(runner: CliRunner) -> None:
    created = _json(runner, "tokens", "create", "--admin")

    revoked = _json(runner, "tokens", "revoke", str(created["id"]))

    assert revoked["id"] == created["id"]
    assert revoked["revoked_at"] is not None


def test_tokens_revoke_unknown_id_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(app, ["tokens", "revoke", "999"])

    assert result.exit_code == 1
