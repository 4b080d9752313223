"""What a processed Jira delivery reports besides its status: the projects it changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.domain.enums import InboxStatus, SourceKind
from service.domain.work import Project
from service.store.db import transaction
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.sync.deliveries import apply_delivery_now
from tests.support.inbox import store_body
from tests.support.sources import add_test_source

FIXTURES = Path(__file__).resolve().parents[2] / "connectors" / "jira" / "fixtures" / "webhooks"
# Nothing listens here: a delivery that needed the API would fail loudly instead of passing.
UNREACHABLE = "http://127.0.0.1:9"


def body(fixture: str) -> bytes:
    return (FIXTURES / f"{fixture}.json").read_bytes()


@pytest.fixture
def source_id(store: Store) -> int:
    return add_test_source(
        store, kind=SourceKind.JIRA_CLOUD, name="fixtures", webhook_secret="s", base_url=UNREACHABLE
    )


@pytest.fixture
def project_ids(store: Store, source_id: int) -> dict[str, int]:
    """Project external id -> stored id; the fixtures' issues live in 10000 and 10012."""
    with transaction(store.sessions) as session:
        return upsert_projects(
            session,
            projects=[
                Project(source_id=source_id, external_id="10000", key="ACME", name="Acme"),
                Project(source_id=source_id, external_id="10012", key="TALK", name="Talk"),
            ],
        )


def test_apply_delivery_updated_issue_reports_its_project(
    store: Store, source_id: int, project_ids: dict[str, int]
) -> None:
    inbox_id = store_body(store, source_id, body("issue_updated_duedate"), "d1")

    result = apply_delivery_now(store, inbox_id=inbox_id)

    assert result.status is InboxStatus.PROCESSED
    assert result.source_id == source_id
    assert result.project_ids == frozenset({project_ids["10000"]})


def test_apply_delivery_repeated_update_reports_no_project(
    store: Store, source_id: int, project_ids: dict[str, int]
) -> None:
    apply_delivery_now(store, inbox_id=store_body(store, source_id, body("issue_updated_duedate"), "d1"))
    again = store_body(store, source_id, body("issue_updated_duedate"), "d1-resent-with-a-new-id")

    result = apply_delivery_now(store, inbox_id=again)

    assert result.status is InboxStatus.PROCESSED
    assert result.project_ids == frozenset()


def test_apply_delivery_deleted_issue_reports_its_project(
    store: Store, source_id: int, project_ids: dict[str, int]
) -> None:
    apply_delivery_now(store, inbox_id=store_body(store, source_id, body("issue_updated_status"), "s1"))
    deleted = store_body(store, source_id, body("issue_deleted"), "x1")

    result = apply_delivery_now(store, inbox_id=deleted)

    assert result.status is InboxStatus.PROCESSED
    assert result.project_ids == frozenset({project_ids["10012"]})


def test_apply_delivery_delete_of_an_unknown_issue_reports_no_project(
    store: Store, source_id: int, project_ids: dict[str, int]
) -> None:
    result = apply_delivery_now(store, inbox_id=store_body(store, source_id, body("issue_deleted"), "x1"))

    assert result.status is InboxStatus.PROCESSED
    assert result.project_ids == frozenset()


def test_apply_delivery_released_version_reports_its_project(
    store: Store, source_id: int, project_ids: dict[str, int]
) -> None:
    result = apply_delivery_now(store, inbox_id=store_body(store, source_id, body("version_released"), "v1"))

    assert result.status is InboxStatus.PROCESSED
    assert result.project_ids == frozenset({project_ids["10000"]})


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [("unknown_event", InboxStatus.IGNORED), ("issue_updated_missing_issue", InboxStatus.DEAD)],
    ids=["ignored-event", "dead-letter"],
)
def test_apply_delivery_not_applied_reports_no_project(
    store: Store, source_id: int, project_ids: dict[str, int], fixture: str, expected: InboxStatus
) -> None:
    result = apply_delivery_now(store, inbox_id=store_body(store, source_id, body(fixture), fixture))

    assert (result.status, result.project_ids) == (expected, frozenset())


def test_apply_delivery_already_processed_reports_no_project(
    store: Store, source_id: int, project_ids: dict[str, int]
) -> None:
    inbox_id = store_body(store, source_id, body("issue_updated_duedate"), "d1")
    apply_delivery_now(store, inbox_id=inbox_id)

    result = apply_delivery_now(store, inbox_id=inbox_id)

    assert (result.status, result.project_ids) == (InboxStatus.PROCESSED, frozenset())
