"""Sources stored the way the CLI and admin API store them."""

from __future__ import annotations

from datetime import UTC, datetime

from service.domain.enums import SourceKind
from service.netcheck import ALLOW_PRIVATE_SETTING, needs_private_opt_in
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
            # A sandbox on loopback is reached with the opt-in, recorded as the CLI and API record it.
            settings={ALLOW_PRIVATE_SETTING: True} if needs_private_opt_in(base_url, resolver=None) else {},
            now=datetime.now(UTC),
        )
    assert source.id is not None
    return source.id
