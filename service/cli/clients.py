"""`pmbridge clients`: add clients and give them projects (mirrors /admin/clients)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from service.cli.context import fail_on_service_error, opened_store
from service.domain.enums import ScopeRule

clients_app = typer.Typer(help="Clients and the projects they see.", no_args_is_help=True)


@clients_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique client name.")],
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id", "name"}.')] = False,
) -> None:
    """Add a client."""
    from service.store.db import transaction
    from service.store.tenancy import add_client

    with opened_store(ctx) as store, fail_on_service_error(), transaction(store.sessions) as session:
        client = add_client(session, name=name, now=datetime.now(UTC))
    if as_json:
        typer.echo(json.dumps({"id": client.id, "name": client.name}))
        return
    typer.echo(f"added client {client.id} ({client.name})")


@clients_app.command("scope")
def scope(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The client's name.")],
    project: Annotated[str, typer.Option("--project", help="Project key (Jira key or Trello board key).")],
    source_id: Annotated[
        int | None, typer.Option("--source", help="The source, when several have this key.")
    ] = None,
    label: Annotated[str | None, typer.Option(help="Only items with this label.")] = None,
    parent: Annotated[
        str | None, typer.Option(help="Only this epic or parent (key) and its children.")
    ] = None,
    component: Annotated[str | None, typer.Option(help="Only items in this component.")] = None,
    filter_: Annotated[
        str | None,
        typer.Option("--filter", help='Only items matching, e.g. "label:client -kind:bug category:done".'),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scope as JSON.")] = False,
) -> None:
    """Let a client see a project: all of it, or the items one option selects. Its feed gets the
    project's recent history at once."""
    from service.flags.evaluate import backfill_client_feed
    from service.store.db import transaction
    from service.store.projects import get_project_by_key
    from service.store.tenancy import add_scope, get_client_by_name

    chosen = [
        (rule, value)
        for rule, value in (
            (ScopeRule.LABEL, label),
            (ScopeRule.PARENT, parent),
            (ScopeRule.COMPONENT, component),
            (ScopeRule.FILTER, filter_),
        )
        if value is not None
    ]
    if len(chosen) > 1:
        typer.echo("error: give at most one of --label, --parent, --component, --filter", err=True)
        raise typer.Exit(code=2)
    rule, value = chosen[0] if chosen else (ScopeRule.ALL, None)
    with opened_store(ctx) as store, fail_on_service_error():
        with transaction(store.sessions) as session:
            client = get_client_by_name(session, name=name)
            assert client.id is not None
            project_id = get_project_by_key(session, key=project, source_id=source_id).id
            assert project_id is not None
            granted = add_scope(session, client_id=client.id, project_id=project_id, rule=rule, value=value)
        backfill_client_feed(store, client_id=client.id, project_id=project_id, now=datetime.now(UTC))
    payload = {
        "id": granted.id,
        "client_id": granted.client_id,
        "project_id": granted.project_id,
        "rule": granted.rule.value,
        "value": granted.value,
    }
    if as_json:
        typer.echo(json.dumps(payload))
        return
    shown = rule.value if value is None else f"{rule.value} {value}"
    typer.echo(f"client {name} now sees project {project} ({shown})")


@clients_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List clients."""
    from service.store.db import transaction
    from service.store.tenancy import list_clients

    with opened_store(ctx) as store, fail_on_service_error(), transaction(store.sessions) as session:
        clients = list_clients(session, limit=10_000)
    rows = [{"id": c.id, "name": c.name, "created_at": c.created_at.isoformat()} for c in clients]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(f"{row['id']}\t{row['name']}")
