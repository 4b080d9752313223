"""`pmbridge db`: schema upgrade and the current revision."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from service.cli.context import fail_on_service_error, settings_from

db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Upgrade the database schema (explicit on PostgreSQL; automatic on the embedded SQLite)."""
    from service.store.db import build_engine
    from service.store.migrate import upgrade_schema
    from service.store.schema import find_current_revision

    settings = settings_from(ctx)
    with fail_on_service_error():
        engine = build_engine(settings.resolved_database_url)
        try:
            before = find_current_revision(engine)
            upgrade_schema(engine, revision=revision)
            after = find_current_revision(engine)
        finally:
            engine.dispose()
    typer.echo(f"schema upgraded: {before or 'empty'} -> {after}")


@db_app.command("current")
def current(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show the schema revision of the database and the one this version needs."""
    from service.store.db import build_engine
    from service.store.schema import SCHEMA_HEAD, find_current_revision

    settings = settings_from(ctx)
    with fail_on_service_error():
        engine = build_engine(settings.resolved_database_url)
        try:
            revision = find_current_revision(engine)
            head = SCHEMA_HEAD
        finally:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps({"current": revision, "head": head, "up_to_date": revision == head}))
        return
    state = "up to date" if revision == head else "outdated: run `pmbridge db upgrade`"
    typer.echo(f"current: {revision or 'empty'}\nhead: {head}\n{state}")
