"""feed event documents carry their id: a page is the stored documents joined, nothing spliced

A trigger stamps each new event's document with its id (known only once the row is inserted), and
the events already stored get theirs here. Joining stored documents costs a page about half of
splicing each id in while reading (bench/bench_feed.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PREFIX = """'{"id":'"""
# Idempotent: a document that already starts with its id is left alone.
_STAMPED = """'{"id":' || id || ',' || substr(document, 2)"""
_UNSTAMPED = "substr(document, 1, 6) <> " + _PREFIX

_CREATE = {
    "sqlite": [
        # SQLite's BEFORE triggers cannot change the row, and the id is assigned on insert.
        "CREATE TRIGGER feed_events_document_id AFTER INSERT ON feed_events "  # noqa: S608 - fixed SQL
        f"WHEN substr(NEW.document, 1, 6) <> {_PREFIX} BEGIN "
        f"""UPDATE feed_events SET document = '{{"id":' || NEW.id || ',' || substr(NEW.document, 2) """
        "WHERE id = NEW.id; END",
    ],
    "postgresql": [
        # The id's default is applied before BEFORE triggers run.
        "CREATE FUNCTION feed_events_document_id() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF substr(NEW.document, 1, 6) <> {_PREFIX} THEN "
        f"""NEW.document := '{{"id":' || NEW.id || ',' || substr(NEW.document, 2); """
        "END IF; RETURN NEW; END $$",
        "CREATE TRIGGER feed_events_document_id BEFORE INSERT ON feed_events "
        "FOR EACH ROW EXECUTE FUNCTION feed_events_document_id()",
    ],
}
_DROP = {
    "sqlite": ["DROP TRIGGER feed_events_document_id"],
    "postgresql": [
        "DROP TRIGGER feed_events_document_id ON feed_events",
        "DROP FUNCTION feed_events_document_id()",
    ],
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _CREATE[dialect]:
        op.execute(statement)
    op.execute(f"UPDATE feed_events SET document = {_STAMPED} WHERE {_UNSTAMPED}")  # noqa: S608 - fixed SQL


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _DROP[dialect]:
        op.execute(statement)
    stamp_length = """length('{"id":' || id || ',')"""
    op.execute(
        f"UPDATE feed_events SET document = '{{' || substr(document, {stamp_length} + 1) "  # noqa: S608
        f"WHERE substr(document, 1, 6) = {_PREFIX}"
    )
