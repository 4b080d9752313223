"""Schema management through Alembic: upgrade, downgrade, current and head revisions, the outdated check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from service.errors import SchemaOutdatedError

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    # configparser interpolates "%": URL-encoded query strings must be escaped.
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade_schema(engine: Engine, *, revision: str = "head") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade_schema(engine: Engine, *, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def find_current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def get_head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> None:
    """Upgrade an embedded database on first use; refuse to run on any other outdated schema."""
    current = find_current_revision(engine)
    head = get_head_revision(engine)
    if current == head:
        return
    if auto_upgrade:
        upgrade_schema(engine)
        return
    raise SchemaOutdatedError(
        f"the database schema is at {current or 'nothing'}, this version needs {head}: "
        "run `pmbridge db upgrade`",
        details={"current": current, "head": head},
    )
