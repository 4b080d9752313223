"""Projects: one module looks them up by id or key and lists them."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from service.domain.enums import SourceKind
from service.domain.work import Project
from service.errors import ConflictError, NotFoundError
from service.store.crypto import CredentialCipher
from service.store.items import get_work_item, upsert_work_items
from service.store.projects import (
    find_project,
    find_project_by_key,
    find_push_target,
    get_project_by_key,
    list_project_ids_by_external_id,
    list_projects,
    list_source_projects,
    update_project_push_settings,
    upsert_projects,
)
from service.store.sources import add_source
from tests.service.store.conftest import NOW
from tests.service.store.test_items import make_item


def _second_source(session: Session, cipher: CredentialCipher) -> int:
    source = add_source(
        session,
        cipher=cipher,
        kind=SourceKind.JIRA_CLOUD,
        name="other-jira",
        base_url="https://other.atlassian.net",
        credentials={"email": "ops@example.com", "api_token": "t"},
        webhook_secret=None,
        now=NOW,
    )
    assert source.id is not None
    return source.id


def _add(session: Session, source_id: int, *keys: str) -> dict[str, int]:
    return upsert_projects(
        session,
        projects=[Project(source_id=source_id, external_id=f"ext-{k}", key=k, name=k) for k in keys],
    )


def test_get_project_by_key_is_ambiguous_across_sources_unless_the_source_is_named(
    session: Session, source_id: int, cipher: CredentialCipher
) -> None:
    other = _second_source(session, cipher)
    _add(session, other, "ACME")

    with pytest.raises(ConflictError):
        get_project_by_key(session, key="ACME")
    assert get_project_by_key(session, key="ACME", source_id=other).source_id == other
    first = find_project_by_key(session, key="ACME")
    assert first is not None and first.source_id == source_id


def test_get_project_by_key_unknown_raises_and_find_returns_none(session: Session, source_id: int) -> None:
    with pytest.raises(NotFoundError):
        get_project_by_key(session, key="NOPE")
    assert find_project_by_key(session, key="NOPE") is None
    assert find_project(session, project_id=10**9) is None


def test_list_projects_pages_by_id_and_filters(
    session: Session, source_id: int, cipher: CredentialCipher
) -> None:
    ids = _add(session, source_id, "ZED", "BETA")
    other = _second_source(session, cipher)
    _add(session, other, "ALPHA")
    mine = list_projects(session, source_id=source_id)

    assert [p.key for p in mine] == ["ACME", "ZED", "BETA"]
    assert [p.key for p in list_source_projects(session, source_id=source_id)] == ["ACME", "BETA", "ZED"]
    assert [p.key for p in list_projects(session, after_id=mine[0].id or 0, limit=2)] == ["ZED", "BETA"]
    assert [p.key for p in list_projects(session, project_ids=[ids["ext-BETA"]])] == ["BETA"]
    assert list_project_ids_by_external_id(session, source_id=other).keys() == {"ext-ALPHA"}


def test_update_project_push_settings_shows_in_the_push_target(session: Session, source_id: int) -> None:
    [project] = list_projects(session, source_id=source_id)
    assert project.id is not None

    upsert_work_items(session, source_id=source_id, items=[make_item(source_id, 1)])
    item = get_work_item(session, source_id=source_id, external_id="20001")
    assert item.id is not None

    update_project_push_settings(session, project_id=project.id, settings={"enabled": True})

    target = find_push_target(session, item_id=item.id)
    assert target is not None
    assert (target.item_key, target.project_id, target.push_settings) == (
        "ACME-1",
        project.id,
        {"enabled": True},
    )
    assert find_push_target(session, item_id=10**9) is None
    with pytest.raises(NotFoundError):
        update_project_push_settings(session, project_id=10**9, settings={})
