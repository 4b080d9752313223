from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.domain.enums import MilestoneKind, SourceKind
from service.domain.work import Milestone, Project
from service.store.crypto import CredentialCipher
from service.store.db import build_engine
from service.store.items import upsert_milestones
from service.store.migrate import upgrade_schema
from service.store.projects import upsert_projects
from service.store.sources import add_source

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty database of each dialect, migrated to the head."""
    built = build_engine(database_url)
    upgrade_schema(built)
    yield built
    built.dispose()


@pytest.fixture
def cipher() -> CredentialCipher:
    return CredentialCipher([Fernet.generate_key()])


@pytest.fixture
def source_id(session: Session, cipher: CredentialCipher) -> int:
    source = add_source(
        session,
        cipher=cipher,
        kind=SourceKind.JIRA_CLOUD,
        name="acme-jira",
        base_url="https://acme.atlassian.net",
        credentials={"email": "ops@example.com", "api_token": "s3cr3t-token"},
        webhook_secret="whsec-1",
        now=NOW,
    )
    assert source.id is not None
    upsert_projects(
        session,
        projects=[Project(source_id=source.id, external_id="10000", key="ACME", name="Acme web")],
    )
    upsert_milestones(
        session,
        source_id=source.id,
        milestones=[
            Milestone(
                source_id=source.id,
                project_external_id="10000",
                external_id="v1",
                name="1.0",
                kind=MilestoneKind.VERSION,
            )
        ],
    )
    return source.id
