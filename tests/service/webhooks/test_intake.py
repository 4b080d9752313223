from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from service.domain.enums import SourceKind
from service.errors import DatabaseUnavailableError, NotFoundError
from service.settings import Settings
from service.store.db import build_engine
from service.store.runtime import Store, open_store
from service.store.schema import upgrade_schema
from service.webhooks.intake import DeliveryOutcome, WebhookIntake
from tests.support.sources import add_test_source

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, secret_key=SecretStr(Fernet.generate_key().decode())
    )
    opened = open_store(settings, check_schema=False)
    upgrade_schema(opened.engine)
    yield opened
    opened.close()


def test_store_delivery_twice_is_accepted_then_duplicate(store: Store) -> None:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret="s")
    intake = WebhookIntake(store)

    first = intake.store_delivery(
        source_id=source_id, delivery_id="d", event_type="e", body=b"{}", received_at=AT
    )
    second = intake.store_delivery(
        source_id=source_id, delivery_id="d", event_type="e", body=b"{}", received_at=AT
    )

    assert first.outcome is DeliveryOutcome.ACCEPTED and first.inbox_id is not None
    assert second.outcome is DeliveryOutcome.DUPLICATE and second.inbox_id is None


def test_source_secret_is_decrypted_and_unknown_source_raises(store: Store) -> None:
    source_id = add_test_source(store, kind=SourceKind.JIRA_CLOUD, name="j", webhook_secret="whsec")
    intake = WebhookIntake(store)

    assert intake.source_secret(source_id).secret == "whsec"
    with pytest.raises(NotFoundError):
        intake.source_secret(source_id + 100)


def test_store_delivery_database_down_raises_unavailable(store: Store) -> None:
    down = replace(
        store, engine=build_engine("postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2")
    )

    with pytest.raises(DatabaseUnavailableError):
        WebhookIntake(down).store_delivery(
            source_id=1, delivery_id="d", event_type="e", body=b"{}", received_at=AT
        )
