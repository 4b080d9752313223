"""The API app the delivery tests post webhooks to, on its own embedded database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.api.app import create_app
from service.settings import Settings
from service.store.runtime import Store
from tests.support.fakes import RecordingEnqueuer


@pytest.fixture
def app_public_url() -> str | None:
    """The app's public URL (Trello signs over it); a module overrides this fixture to set one."""
    return None


@pytest.fixture
def app_client(tmp_path: Path, app_public_url: str | None) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "app",
        secret_key=SecretStr(Fernet.generate_key().decode()),
        public_url=app_public_url,
    )
    with TestClient(create_app(settings, enqueuer=RecordingEnqueuer())) as client:
        yield client


@pytest.fixture
def app_store(app_client: TestClient) -> Store:
    store: Store = app_client.app.state.store  # type: ignore[attr-defined]
    return store
