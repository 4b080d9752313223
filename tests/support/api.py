"""A small agency for API tests: three clients, their projects, items, promises, flags and feed events.

Rows that other parts of pmbridge produce (commitments, flags, feed events) are inserted directly,
the way those producers store them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from service.api.app import create_app
from service.domain.enums import ItemKind, MilestoneKind, ScopeRule, SourceKind, StatusCategory
from service.domain.work import Milestone, Project, WorkItem
from service.settings import Settings
from service.store.db import transaction
from service.store.items import upsert_milestones, upsert_work_items
from service.store.orm import (
    CommitmentMoveRow,
    CommitmentRow,
    FeedEventRow,
    FlagRow,
    MilestoneRow,
    WorkItemRow,
)
from service.store.projects import upsert_projects
from service.store.runtime import Store
from service.store.tenancy import add_client, add_scope, issue_token
from tests.support.fakes import RecordingEnqueuer
from tests.support.sources import add_test_source

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
SOURCE_API_TOKEN = "jira-api-token-known-secret-4242"
SOURCE_WEBHOOK_SECRET = "webhook-secret-known-7777"
CLIENTS = ("acme", "globex", "initech")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# Path ids no table can hold (past 2^63, or not positive): answered 422 before any query.
OUT_OF_RANGE_IDS = ["99999999999999999999", "9223372036854775808", "0", "-1"]
OUT_OF_RANGE_ID_NAMES = ["20-digits", "2^63", "zero", "negative"]


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "secret_key": SecretStr(Fernet.generate_key().decode()),
        "rate_limit_per_second": 10_000.0,
        "rate_limit_burst": 10_000,
        "auth_cache_seconds": 0.0,
        **overrides,
    }
    return Settings(**values)


@contextmanager
def open_test_api(settings: Settings, enqueuer: RecordingEnqueuer | None = None) -> Iterator[TestClient]:
    with TestClient(create_app(settings, enqueuer=enqueuer or RecordingEnqueuer())) as client:
        yield client


def store_of(client: TestClient) -> Store:
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    return store


@dataclass
class World:
    source_id: int
    clients: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)
    admin_token: str = ""
    projects: dict[str, int] = field(default_factory=dict)
    milestones: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    commitments: dict[str, int] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    events: dict[str, list[int]] = field(default_factory=dict)
    # What each client may see, by the keys above.
    visible_projects: dict[str, set[str]] = field(default_factory=dict)


def _item(
    source_id: int,
    project: str,
    key: str,
    *,
    category: StatusCategory,
    labels: tuple[str, ...] = (),
    milestone: str | None = None,
    kind: ItemKind = ItemKind.STORY,
    parent: str | None = None,
    created: datetime = T0,
    resolved: datetime | None = None,
    estimate: int | None = None,
    spent: int | None = None,
) -> WorkItem:
    return WorkItem(
        source_id=source_id,
        project_external_id=project,
        external_id=f"x-{key}",
        key=key,
        title=f"Title of {key}",
        kind=kind,
        status=category.value,
        status_category=category,
        labels=labels,
        parent_external_id=parent,
        milestone_external_ids=(milestone,) if milestone else (),
        created_at=created,
        updated_at=created + timedelta(days=1),
        resolved_at=resolved,
        estimate_seconds=estimate,
        spent_seconds=spent,
    )


def add_feed_event(
    store: Store,
    *,
    client_id: int,
    project_id: int | None,
    summary: str,
    kind: str = "item_done",
    payload: dict[str, Any] | None = None,
) -> int:
    with transaction(store.sessions) as session:
        row = FeedEventRow(
            client_id=client_id,
            project_id=project_id,
            kind=kind,
            dedupe_key=f"{summary}-{datetime.now(UTC).timestamp()}-{id(summary)}",
            summary=summary,
            payload={"summary": summary} if payload is None else payload,
            occurred_at=T0,
            created_at=T0,
        )
        session.add(row)
        session.flush()
        return row.id


def seed_world(store: Store) -> World:
    """acme sees ACME and the client-labelled items of SHARED; globex sees GLOBEX and all of SHARED;
    initech sees INITECH only."""
    source_id = add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="agency-jira",
        webhook_secret=SOURCE_WEBHOOK_SECRET,
        credentials={"email": "ops@example.com", "api_token": SOURCE_API_TOKEN},
    )
    world = World(source_id=source_id)
    keys = ("ACME", "GLOBEX", "INITECH", "SHARED")
    with transaction(store.sessions) as session:
        ids = upsert_projects(
            session,
            projects=[
                Project(source_id=source_id, external_id=key, key=key, name=f"{key} web") for key in keys
            ],
        )
        world.projects = {key: ids[key] for key in keys}
        upsert_milestones(
            session,
            source_id=source_id,
            milestones=[
                Milestone(
                    source_id=source_id,
                    project_external_id=key,
                    external_id=f"m-{key}",
                    name=f"{key} 1.0",
                    kind=MilestoneKind.VERSION,
                    due_date=date(2026, 10, 1),
                    completed_at=T0 + timedelta(days=10) if key == "ACME" else None,
                )
                for key in keys
            ],
        )
        items = []
        for key in keys:
            items += [
                _item(
                    source_id,
                    key,
                    f"{key}-1",
                    category=StatusCategory.DONE,
                    milestone=f"m-{key}",
                    resolved=T0 + timedelta(days=3),
                    estimate=7200,
                    spent=3600,
                    labels=("client",),
                ),
                _item(
                    source_id,
                    key,
                    f"{key}-2",
                    category=StatusCategory.IN_PROGRESS,
                    milestone=f"m-{key}",
                    labels=("client",),
                ),
                _item(source_id, key, f"{key}-3", category=StatusCategory.TODO, labels=("internal",)),
            ]
        items.append(
            _item(
                source_id,
                "ACME",
                "ACME-4",
                category=StatusCategory.TODO,
                kind=ItemKind.BUG,
                milestone="m-ACME",
                created=T0 + timedelta(days=20),
            )
        )
        upsert_work_items(session, source_id=source_id, items=items)
        world.items = {
            key: item_id for key, item_id in session.execute(select(WorkItemRow.key, WorkItemRow.id)).all()
        }
        world.milestones = {
            name.split(" ")[0]: milestone_id
            for name, milestone_id in session.execute(select(MilestoneRow.name, MilestoneRow.id)).all()
        }
        for key in keys:
            commitment = CommitmentRow(
                subject="item",
                subject_id=world.items[f"{key}-2"],
                baseline_date=date(2026, 9, 10),
                current_date=date(2026, 9, 17),
                promised_at=T0,
            )
            on_milestone = CommitmentRow(
                subject="milestone",
                subject_id=world.milestones[key],
                baseline_date=date(2026, 9, 20),
                current_date=date(2026, 9, 20),
                promised_at=T0,
                delivered_at=T0 + timedelta(days=10),
            )
            internal = CommitmentRow(
                subject="item",
                subject_id=world.items[f"{key}-3"],
                baseline_date=date(2026, 9, 12),
                current_date=date(2026, 9, 12),
                promised_at=T0,
            )
            session.add_all([commitment, on_milestone, internal])
            session.flush()
            session.add(
                CommitmentMoveRow(
                    commitment_id=commitment.id,
                    moved_at=T0 + timedelta(days=2),
                    moved_by="pm",
                    from_date=date(2026, 9, 10),
                    to_date=date(2026, 9, 17),
                )
            )
            world.commitments[f"{key}-item"] = commitment.id
            world.commitments[f"{key}-milestone"] = on_milestone.id
            world.commitments[f"{key}-internal"] = internal.id
            for name, subject, subject_id, published in (
                ("item", "item", world.items[f"{key}-2"], True),
                ("internal-item", "item", world.items[f"{key}-3"], True),
                ("milestone", "milestone", world.milestones[key], True),
                ("project", "project", world.projects[key], True),
                ("unpublished", "project", world.projects[key], False),
            ):
                flag = FlagRow(
                    rule_id=f"rule-{name}",
                    subject=subject,
                    subject_id=subject_id,
                    severity="warning",
                    state="open",
                    message=f"internal rule message {key} {name}",
                    evidence={},
                    fingerprint=f"{key}-{name}",
                    first_seen_at=T0,
                    last_seen_at=T0,
                    client_text=f"Risk on {key} ({name})" if published else None,
                    published=published,
                )
                session.add(flag)
                session.flush()
                world.flags[f"{key}-{name}"] = flag.id
        scopes = {
            "acme": [("ACME", ScopeRule.ALL, None), ("SHARED", ScopeRule.LABEL, "client")],
            "globex": [("GLOBEX", ScopeRule.ALL, None), ("SHARED", ScopeRule.ALL, None)],
            "initech": [("INITECH", ScopeRule.ALL, None)],
        }
        for name in CLIENTS:
            client = add_client(session, name=name, now=T0)
            assert client.id is not None
            world.clients[name] = client.id
            for key, rule, value in scopes[name]:
                add_scope(
                    session, client_id=client.id, project_id=world.projects[key], rule=rule, value=value
                )
            world.visible_projects[name] = {key for key, _r, _v in scopes[name]}
            issued = issue_token(
                session, client_id=client.id, is_admin=False, name=name, expires_at=None, now=T0
            )
            assert issued.token.id is not None
            world.tokens[name] = issued.secret
            world.token_ids[name] = issued.token.id
        admin = issue_token(session, client_id=None, is_admin=True, name="ops", expires_at=None, now=T0)
        world.admin_token = admin.secret
    for name in CLIENTS:
        world.events[name] = [
            add_feed_event(
                store,
                client_id=world.clients[name],
                project_id=world.projects[key],
                summary=f"{name} {key} {n}",
            )
            for key in sorted(world.visible_projects[name])
            for n in range(3)
        ]
    return world
