"""Migration 0015 on stored events: each names its item or milestone, read from its dedupe key, and
progress counted over a filtered scope is dropped; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.fernet import Fernet
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from service.domain.enums import ScopeRule, SourceKind
from service.domain.work import Project
from service.store.crypto import CredentialCipher
from service.store.db import build_engine
from service.store.migrate import downgrade_schema, upgrade_schema
from service.store.projects import upsert_projects
from service.store.sources import add_source
from service.store.tenancy import add_client, add_scope

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
KEYS = {
    "item_done:41:2026-11-18T10:00:00+00:00": (41, None),
    "commitment_moved:item:42:10077": (42, None),
    "commitment_met:item:43:2026-11-19": (43, None),
    "commitment_missed:item:44:2026-11-19": (44, None),
    "item_reopened:46:2026-11-19T08:00:00+00:00": (46, None),
    "commitment_reopened:item:47:2026-11-19T08:00:00+00:00": (47, None),
    "milestone_progress:7:3/4": (None, 7),
    "risk_resolved:{flag}": (45, None),
    "risk_raised:{flag}:2026-11-19T08:00:00+00:00": (45, None),
    "risk_resolved:{project_flag}": (None, None),
    "something_else:9": (None, None),
}


def _seed(engine: Engine) -> tuple[int, int, dict[str, int]]:
    """A project, a client that sees all of it and one that sees a label, and flags on an item and
    on the project, with an event of each key for each client; returns (the all-scope client, the
    labelled client, the flag ids)."""
    with Session(engine) as session, session.begin():
        source = add_source(
            session,
            cipher=CredentialCipher([Fernet.generate_key()]),
            kind=SourceKind.JIRA_CLOUD,
            name="site",
            base_url="https://acme.atlassian.net",
            credentials={"email": "ops@example.com", "api_token": "t"},
            webhook_secret=None,
            now=NOW,
        )
        assert source.id is not None
        project_id = upsert_projects(
            session, projects=[Project(source_id=source.id, external_id="1", key="ACME", name="Acme")]
        )["1"]
        clients = []
        for name, rule, value in (("all", ScopeRule.ALL, None), ("label", ScopeRule.LABEL, "client")):
            client = add_client(session, name=name, now=NOW)
            assert client.id is not None
            add_scope(session, client_id=client.id, project_id=project_id, rule=rule, value=value)
            clients.append(client.id)
        flags = {}
        for name, subject, subject_id in (("flag", "item", 45), ("project_flag", "project", project_id)):
            flags[name] = session.execute(
                text(
                    "INSERT INTO flags (rule_id, subject, subject_id, severity, state, message, evidence, "
                    "fingerprint, first_seen_at, last_seen_at, published) VALUES ('r', :subject, "
                    ":subject_id, 'warning', 'resolved', 'm', '{}', :name, :now, :now, true) RETURNING id"
                ),
                {"subject": subject, "subject_id": subject_id, "name": name, "now": NOW},
            ).scalar_one()
        for client_id in clients:
            for key in KEYS:
                session.execute(
                    text(
                        "INSERT INTO feed_events (client_id, project_id, kind, dedupe_key, summary, "
                        "payload, occurred_at, created_at, document) VALUES (:client, :project, :kind, :key, "
                        "'s', '{}', :now, :now, '{}')"
                    ),
                    {
                        "client": client_id,
                        "project": project_id,
                        "kind": key.split(":")[0],
                        "key": key.format(**flags),
                        "now": NOW,
                    },
                )
    return clients[0], clients[1], flags


def _subjects(engine: Engine, client_id: int) -> dict[str, tuple[int | None, int | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT dedupe_key, item_id, milestone_id FROM feed_events WHERE client_id = :c"),
            {"c": client_id},
        )
        return {key: (item, milestone) for key, item, milestone in rows}


def test_migration_0015_names_each_events_subject_and_drops_filtered_progress(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade_schema(engine, revision="0014")
        everything, labelled, flags = _seed(engine)

        upgrade_schema(engine)

        expected = {key.format(**flags): ids for key, ids in KEYS.items()}
        assert _subjects(engine, everything) == expected
        assert _subjects(engine, labelled) == {
            k: v for k, v in expected.items() if not k.startswith("milestone")
        }
        downgrade_schema(engine, revision="0014")
        upgrade_schema(engine)
    finally:
        engine.dispose()
