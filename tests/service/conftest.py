"""Shared by the service tests: a Jira sandbox over loopback, and a fresh store with a source at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from service.domain.enums import SourceKind
from service.settings import Settings
from service.store.migrate import upgrade_schema
from service.store.runtime import Store, open_store
from tests.support.jira_sandbox import JiraSandbox, serve_jira_sandbox
from tests.support.sources import add_test_source


@pytest.fixture
def jira_sandbox() -> Iterator[JiraSandbox]:
    with serve_jira_sandbox("tiny", seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr(Fernet.generate_key().decode()))
    opened = open_store(settings, check_schema=False)
    upgrade_schema(opened.engine)
    yield opened
    opened.close()


@pytest.fixture
def dialect_store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    """A fresh, migrated store on each database (`store` is the embedded SQLite only)."""
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, secret_key=SecretStr(Fernet.generate_key().decode())
    )
    opened = open_store(settings, check_schema=False)
    upgrade_schema(opened.engine)
    yield opened
    opened.close()


@pytest.fixture
def jira_source_id(store: Store, jira_sandbox: JiraSandbox) -> int:
    sandbox = jira_sandbox.sandbox
    return add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="sandbox-jira",
        webhook_secret=sandbox.jira_webhook_secret,
        base_url=jira_sandbox.base_url,
        credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
    )
