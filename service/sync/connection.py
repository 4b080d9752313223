"""Connecting a source, as the admin API (`POST /admin/sources`, `/admin/sources/{id}/test`) and the
console do it: the base URL checked against SSRF (and again, resolved, before every connection test),
the settings the source's kind reads, a connection test of one attempt, and the source stored with
its credentials and webhook secret encrypted.

The console tests a source before storing it (`check_connection` of a source not yet stored); the
API stores it first and tests it by id (`check_stored_connection`). Both go through the same test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from connectors.http import ConnectorError, RetryPolicy
from service.domain.enums import SourceKind
from service.domain.work import Source
from service.errors import ConfigurationError, InvalidInputError
from service.netcheck import ALLOW_PRIVATE_SETTING, check_source_url, needs_private_opt_in, resolve_host
from service.providers import provider_for
from service.store.db import transaction
from service.store.runtime import Store
from service.store.sources import add_source, get_source, read_credentials

# A connection test answers the operator while they wait: one attempt, a short timeout.
TEST_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class NewSource:
    kind: SourceKind
    name: str
    base_url: str
    credentials: dict[str, str]
    webhook_secret: str | None = None
    project_keys: list[str] = field(default_factory=list)
    provider_settings: dict[str, object] = field(default_factory=dict)


def prepare_source(new: NewSource, *, allow_private: bool) -> Source:
    """The source as it would be stored (no id yet); `InvalidInputError` for a base URL refused."""
    base_url = check_source_url(new.base_url, allow_private=allow_private, resolver=resolve_host)
    settings: dict[str, object] = dict(new.provider_settings)
    if new.project_keys:
        settings["project_keys"] = [key.upper() for key in new.project_keys]
    if allow_private and needs_private_opt_in(base_url):
        settings[ALLOW_PRIVATE_SETTING] = True
    return Source(kind=new.kind, name=new.name, base_url=base_url, settings=settings)


def connect_source(store: Store, new: NewSource, *, allow_private: bool, now: datetime) -> Source:
    """Store the source, credentials and webhook secret encrypted."""
    prepared = prepare_source(new, allow_private=allow_private)
    with transaction(store.sessions) as session:
        return add_source(
            session,
            cipher=store.cipher,
            kind=prepared.kind,
            name=prepared.name,
            base_url=prepared.base_url,
            credentials=new.credentials,
            webhook_secret=new.webhook_secret,
            settings=dict(prepared.settings),
            now=now,
        )


def check_connection(source: Source, credentials: dict[str, str], *, allow_private: bool) -> ConnectionResult:
    """Call the provider with these credentials; redirects are not followed."""
    try:
        check_source_url(
            source.base_url, allow_private=allow_private, resolver=resolve_host, must_resolve=True
        )
    except InvalidInputError as exc:
        return ConnectionResult(ok=False, detail=exc.message)
    try:
        connection = provider_for(source.kind).test_connection(source, credentials, retry=TEST_RETRY)
    except (ConnectorError, ConfigurationError) as exc:
        return ConnectionResult(ok=False, detail=f"{type(exc).__name__}: {str(exc)[:300]}")
    return ConnectionResult(ok=True, detail=connection.detail)


def check_stored_connection(store: Store, *, source_id: int, allow_private: bool) -> ConnectionResult:
    """The connection test of a stored source, with its stored credentials."""
    with transaction(store.sessions) as session:
        source = get_source(session, source_id=source_id)
        credentials = read_credentials(session, cipher=store.cipher, source_id=source_id)
    return check_connection(source, credentials, allow_private=allow_private)
