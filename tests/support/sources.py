"""Sources stored the way the CLI and admin API store them."""

from __future__ import annotations

from datetime import UTC, datetime

from service.domain.enums import SourceKind
from service.store.db import transaction
from service.store.runtime import Store
from service.store.sources import add_source

JIRA_WEBHOOK_SECRET = "jira-webhook-secret-for-tests"


def add_test_source(
    store: Store,
    *,
    kind: SourceKind,
    name: str,
    webhook_secret: str | None,
    base_url: str = "https://acme.atlassian.net",
    credentials: dict[str, str] | None = None,
) -> int:
    with transaction(store.sessions) as session:
        source = add_source(
            session,
            cipher=store.cipher,
            kind=kind,
            name=name,
            base_url=base_url,
            credentials=credentials or {"email": "ops@example.com", "api_token": "tok"},
            webhook_secret=webhook_secret,
            now=datetime.now(UTC),
        )
    assert source.id is not None
    return source.id
