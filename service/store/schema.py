"""The schema revision a database is at, the one this version needs, and the outdated check.

Every process opens the store through `ensure_schema`, so it stays cheap: the revision is read with
one query and compared with `SCHEMA_HEAD`, and Alembic (a tenth of a second to import) is loaded
only when the schema is outdated and may be upgraded. A test holds `SCHEMA_HEAD` equal to the head
the migrations define.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from service.errors import SchemaOutdatedError

SCHEMA_HEAD = "0021"
ALEMBIC_VERSION_TABLE = "alembic_version"


def find_current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(ALEMBIC_VERSION_TABLE):
            return None
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(revision) if revision is not None else None


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> None:
    """Upgrade an embedded database on first use; refuse to run on any other outdated schema."""
    current = find_current_revision(engine)
    if current == SCHEMA_HEAD:
        return
    if auto_upgrade:
        from service.store.migrate import upgrade_schema  # noqa: PLC0415 - Alembic only when needed

        upgrade_schema(engine)
        return
    raise SchemaOutdatedError(
        f"the database schema is at {current or 'nothing'}, this version needs {SCHEMA_HEAD}: "
        "run `pmbridge db upgrade`",
        details={"current": current, "head": SCHEMA_HEAD},
    )
