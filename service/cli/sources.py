"""`pmbridge sources`: connect Jira sites (and list what is connected)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from connectors.http import ConnectorError
from connectors.jira import JiraClient
from service.cli.context import fail_on_service_error, opened_store
from service.domain.enums import SourceKind
from service.domain.work import Source
from service.errors import InvalidInputError
from service.store.db import transaction
from service.store.sources import add_source, list_sources
from service.sync.clients import jira_site_for

sources_app = typer.Typer(help="Connected Jira sites and Trello workspaces.", no_args_is_help=True)
add_app = typer.Typer(help="Connect a source (the connection is tested first).", no_args_is_help=True)
sources_app.add_typer(add_app, name="add")


@add_app.command("jira")
def add_jira(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="A unique name for this site.")],
    base_url: Annotated[str, typer.Option(help="https://your-site.atlassian.net, or the Data Center URL.")],
    email: Annotated[str | None, typer.Option(help="Account email (Cloud API token auth).")] = None,
    api_token: Annotated[
        str | None, typer.Option(help="API token (Cloud).", envvar="PMBRIDGE_JIRA_API_TOKEN")
    ] = None,
    personal_access_token: Annotated[
        str | None,
        typer.Option("--pat", help="Personal access token (Data Center).", envvar="PMBRIDGE_JIRA_PAT"),
    ] = None,
    webhook_secret: Annotated[str | None, typer.Option(help="Secret Jira signs webhooks with.")] = None,
    project: Annotated[
        list[str] | None, typer.Option("--project", help="Sync only these project keys (repeatable).")
    ] = None,
    promised_date_field: Annotated[
        str | None, typer.Option(help="Field holding the date promised to clients (default: Due date).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id": …} only.')] = False,
) -> None:
    """Connect a Jira Cloud site (email + API token) or a Data Center server (--pat)."""
    if personal_access_token:
        kind, credentials = SourceKind.JIRA_DATA_CENTER, {"token": personal_access_token}
    elif email and api_token:
        kind, credentials = SourceKind.JIRA_CLOUD, {"email": email, "api_token": api_token}
    else:
        typer.echo("error: give --email and --api-token (Cloud) or --pat (Data Center)", err=True)
        raise typer.Exit(code=2)
    settings: dict[str, object] = {}
    if project:
        settings["project_keys"] = [key.upper() for key in project]
    if promised_date_field:
        settings["promised_date_field"] = promised_date_field
    candidate = Source(kind=kind, name=name, base_url=base_url.rstrip("/"), settings=settings)
    with fail_on_service_error():
        server = _test_jira_connection(candidate, credentials)
        with opened_store(ctx) as store, transaction(store.sessions) as session:
            source = add_source(
                session,
                cipher=store.cipher,
                kind=kind,
                name=name,
                base_url=candidate.base_url,
                credentials=credentials,
                webhook_secret=webhook_secret,
                settings={**settings, "browse_base": server.rstrip("/")},
                now=datetime.now(UTC),
            )
    if as_json:
        typer.echo(json.dumps({"id": source.id}))
        return
    typer.echo(f"connected {kind.value} source {source.id} ({name}) at {server}")
    if not webhook_secret:
        typer.echo("no webhook secret: webhook deliveries for this source will be refused until one is set")


def _test_jira_connection(source: Source, credentials: dict[str, str]) -> str:
    try:
        with JiraClient(jira_site_for(source, credentials)) as client:
            info = client.get_server_info()
            client.get_myself()
    except ConnectorError as exc:
        raise InvalidInputError(f"cannot connect to Jira at {source.base_url}: {exc}") from exc
    return info.base_url


@sources_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List connected sources (credentials are never shown)."""
    with opened_store(ctx) as store, store.sessions() as session:
        sources = list_sources(session)
    rows = [
        {
            "id": s.id,
            "kind": s.kind.value,
            "name": s.name,
            "base_url": s.base_url,
            "last_synced_at": s.last_synced_at.isoformat() if s.last_synced_at else None,
        }
        for s in sources
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo("\t".join(str(row[k]) for k in ("id", "kind", "name", "base_url", "last_synced_at")))
