from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.api.app import create_app
from service.domain.enums import SourceKind
from service.settings import Settings
from service.store.runtime import Store
from tests.support.api import World, make_settings, open_test_api, seed_world, store_of
from tests.support.fakes import RecordingEnqueuer
from tests.support.sources import JIRA_WEBHOOK_SECRET, add_test_source


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key=SecretStr(Fernet.generate_key().decode()))


@pytest.fixture
def enqueuer() -> RecordingEnqueuer:
    return RecordingEnqueuer()


@pytest.fixture
def client(api_settings: Settings, enqueuer: RecordingEnqueuer) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, enqueuer=enqueuer)) as test_client:
        yield test_client


@pytest.fixture
def app_store(client: TestClient) -> Store:
    return store_of(client)


@pytest.fixture
def jira_source_id(app_store: Store) -> int:
    return add_test_source(
        app_store, kind=SourceKind.JIRA_CLOUD, name="acme-jira", webhook_secret=JIRA_WEBHOOK_SECRET
    )


@pytest.fixture
def api_overrides() -> dict[str, Any]:
    """Settings a test module changes for its `api` (override this fixture in the module)."""
    return {}


@pytest.fixture
def api(tmp_path: Path, enqueuer: RecordingEnqueuer, api_overrides: dict[str, Any]) -> Iterator[TestClient]:
    """The app over a fresh data directory, with the rate limits tests do not trip."""
    with open_test_api(make_settings(tmp_path, **api_overrides), enqueuer) as test_client:
        yield test_client


@pytest.fixture
def world(api: TestClient) -> World:
    """The small agency of `tests.support.api`, seeded into `api`'s store."""
    return seed_world(store_of(api))
