from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import SourceKind, SyncRunKind, SyncRunStatus
from service.errors import ConfigurationError, ConflictError, NotFoundError
from service.store.crypto import CredentialCipher
from service.store.orm import SourceRow, SyncRunRow
from service.store.sources import (
    add_source,
    find_source,
    get_source,
    list_sources,
    read_credentials,
    read_webhook_secret,
)
from service.store.sync_state import (
    fail_abandoned_runs,
    find_cursor,
    finish_sync_run,
    save_cursor,
    start_sync_run,
)

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_add_source_credentials_are_encrypted_at_rest(
    session: Session, source_id: int, cipher: CredentialCipher
) -> None:
    raw = session.scalars(select(SourceRow.credentials_encrypted).where(SourceRow.id == source_id)).one()

    assert b"s3cr3t-token" not in raw
    assert read_credentials(session, cipher=cipher, source_id=source_id)["api_token"] == "s3cr3t-token"
    assert read_webhook_secret(session, cipher=cipher, source_id=source_id) == "whsec-1"


def test_read_credentials_with_wrong_key_fails_clearly(session: Session, source_id: int) -> None:
    other = CredentialCipher([Fernet.generate_key()])

    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        read_credentials(session, cipher=other, source_id=source_id)


def test_credential_cipher_rotated_key_still_decrypts() -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    token = CredentialCipher([old_key]).encrypt("secret")

    rotated = CredentialCipher([new_key, old_key])

    assert rotated.decrypt(token) == "secret"
    assert CredentialCipher([new_key]).decrypt(rotated.rotate(token)) == "secret"


def test_add_source_duplicate_name_is_a_conflict(
    session: Session, source_id: int, cipher: CredentialCipher
) -> None:
    with pytest.raises(ConflictError):
        add_source(
            session,
            cipher=cipher,
            kind=SourceKind.TRELLO,
            name="acme-jira",
            base_url="https://api.trello.com",
            credentials={},
            webhook_secret=None,
            now=AT,
        )

    assert [s.id for s in list_sources(session)] == [source_id]


def test_get_source_unknown_raises_not_found(session: Session) -> None:
    assert find_source(session, source_id=999) is None
    with pytest.raises(NotFoundError):
        get_source(session, source_id=999)


def test_save_cursor_second_save_replaces_position(session: Session, source_id: int) -> None:
    save_cursor(session, source_id=source_id, scope="project:ACME", position={"ms": 1}, now=AT)
    save_cursor(session, source_id=source_id, scope="project:ACME", position={"ms": 2}, now=AT)

    assert find_cursor(session, source_id=source_id, scope="project:ACME") == {"ms": 2}
    assert find_cursor(session, source_id=source_id, scope="project:OTHER") is None


def test_finish_sync_run_success_records_counts_and_marks_source_synced(
    session: Session, source_id: int
) -> None:
    run_id = start_sync_run(session, source_id=source_id, kind=SyncRunKind.FULL, now=AT)

    finish_sync_run(
        session,
        run_id=run_id,
        status=SyncRunStatus.SUCCEEDED,
        now=AT,
        items_seen=5,
        items_changed=4,
        changes_added=9,
        items_deleted=1,
        api_calls={"GET /rest/api/3/search/jql": 1},
        errors=[],
    )

    run = session.get(SyncRunRow, run_id)
    assert run is not None and (run.status, run.items_changed) == ("succeeded", 4)
    assert get_source(session, source_id=source_id).last_synced_at == AT


def test_fail_abandoned_runs_closes_runs_left_running(session: Session, source_id: int) -> None:
    abandoned = start_sync_run(session, source_id=source_id, kind=SyncRunKind.FULL, now=AT)

    closed = fail_abandoned_runs(session, source_id=source_id, now=AT)

    run = session.get(SyncRunRow, abandoned)
    assert closed == 1
    assert run is not None and run.status == "failed" and run.finished_at == AT
