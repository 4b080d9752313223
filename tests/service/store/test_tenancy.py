"""Clients, scopes and tokens in the store, and scope rules as SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.enums import ItemKind, ScopeRule, StatusCategory
from service.domain.work import Project, WorkItem
from service.errors import ConflictError, InvalidInputError
from service.store.client_views import read_grants, visible_items
from service.store.items import upsert_work_items
from service.store.orm import WorkItemRow
from service.store.projects import upsert_projects
from service.store.tenancy import (
    add_client,
    add_scope,
    find_token_by_hash,
    hash_token,
    issue_token,
    revoke_token,
)

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _item(source_id: int, key: str, **fields: object) -> WorkItem:
    values: dict[str, object] = {
        "source_id": source_id,
        "project_external_id": "10000",
        "external_id": f"id-{key}",
        "key": key,
        "title": key,
        "kind": ItemKind.STORY,
        "status": "Open",
        "status_category": StatusCategory.TODO,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return WorkItem(**values)  # type: ignore[arg-type]


@pytest.fixture
def project_id(session: Session, source_id: int) -> int:
    upsert_work_items(
        session,
        source_id=source_id,
        items=[
            _item(source_id, "ACME-1", labels=("client", "web"), components=("api",)),
            _item(source_id, "ACME-2", labels=("internal",), kind=ItemKind.BUG),
            _item(
                source_id,
                "ACME-3",
                parent_external_id="id-ACME-9",
                status="In Review",
                status_category=StatusCategory.IN_PROGRESS,
            ),
            _item(source_id, "ACME-9", kind=ItemKind.EPIC, components=("web app",)),
        ],
    )
    return upsert_projects(
        session, projects=[Project(source_id=source_id, external_id="10000", key="ACME", name="Acme")]
    )["10000"]


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (ScopeRule.ALL, None, {"ACME-1", "ACME-2", "ACME-3", "ACME-9"}),
        (ScopeRule.LABEL, "client", {"ACME-1"}),
        (ScopeRule.COMPONENT, "web app", {"ACME-9"}),
        (ScopeRule.PARENT, "ACME-9", {"ACME-3", "ACME-9"}),
        (ScopeRule.FILTER, "-label:internal kind:story,epic", {"ACME-1", "ACME-3", "ACME-9"}),
        (ScopeRule.FILTER, 'status:"in review"', {"ACME-3"}),
        (ScopeRule.FILTER, "label:web,internal category:todo -component:api", {"ACME-2"}),
        (ScopeRule.FILTER, "parent:ACME-9 priority:none", {"ACME-3", "ACME-9"}),
    ],
    ids=[
        "all",
        "label",
        "component",
        "parent",
        "filter-negated",
        "filter-quoted",
        "filter-and",
        "filter-parent",
    ],
)
def test_scope_rule_selects_items(
    session: Session, project_id: int, rule: ScopeRule, value: str | None, expected: set[str]
) -> None:
    client = add_client(session, name="acme", now=NOW)
    assert client.id is not None
    add_scope(session, client_id=client.id, project_id=project_id, rule=rule, value=value)

    grants = read_grants(session, client_id=client.id)
    keys = set(session.scalars(select(WorkItemRow.key).where(visible_items(session, grants))))

    assert keys == expected


@pytest.mark.parametrize(
    ("rule", "value"),
    [
        (ScopeRule.FILTER, "colour:red"),
        (ScopeRule.FILTER, "kind:saga"),
        (ScopeRule.FILTER, "label"),
        (ScopeRule.FILTER, 'label:"open'),
        (ScopeRule.LABEL, None),
        (ScopeRule.ALL, "x"),
    ],
    ids=[
        "unknown-field",
        "unknown-kind",
        "no-value",
        "unbalanced-quote",
        "label-without-value",
        "all-with-value",
    ],
)
def test_scope_invalid_rule_is_refused(
    session: Session, project_id: int, rule: ScopeRule, value: str | None
) -> None:
    client = add_client(session, name="acme", now=NOW)
    assert client.id is not None

    with pytest.raises(InvalidInputError):
        add_scope(session, client_id=client.id, project_id=project_id, rule=rule, value=value)


def test_scope_same_project_twice_conflicts(session: Session, project_id: int) -> None:
    client = add_client(session, name="acme", now=NOW)
    assert client.id is not None
    add_scope(session, client_id=client.id, project_id=project_id, rule=ScopeRule.ALL, value=None)

    with pytest.raises(ConflictError):
        add_scope(session, client_id=client.id, project_id=project_id, rule=ScopeRule.ALL, value=None)


def test_token_issued_is_found_by_its_hash_only(session: Session) -> None:
    client = add_client(session, name="acme", now=NOW)

    issued = issue_token(
        session, client_id=client.id, is_admin=False, name="portal", expires_at=None, now=NOW
    )

    assert issued.secret.startswith("pmb_")
    found = find_token_by_hash(session, token_hash=hash_token(issued.secret))
    assert found is not None
    assert found.token_hash != issued.secret


def test_token_revoked_twice_keeps_the_first_time(session: Session) -> None:
    issued = issue_token(session, client_id=None, is_admin=True, name="ops", expires_at=None, now=NOW)
    assert issued.token.id is not None

    first = revoke_token(session, token_id=issued.token.id, now=NOW)
    second = revoke_token(session, token_id=issued.token.id, now=NOW + timedelta(hours=1))

    assert first.revoked_at == second.revoked_at == NOW
    assert not second.is_usable(NOW)


def test_token_expiry_in_the_past_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInputError):
        issue_token(
            session, client_id=None, is_admin=True, name="ops", expires_at=NOW - timedelta(days=1), now=NOW
        )
