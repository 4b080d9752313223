"""`pmbridge tokens`: create and revoke API tokens (mirrors /admin/tokens)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from service.cli.context import fail_on_service_error, opened_store

tokens_app = typer.Typer(help="API tokens for clients and operators.", no_args_is_help=True)


@tokens_app.command("create")
def create(
    ctx: typer.Context,
    client: Annotated[str | None, typer.Option("--client", help="The client the token reads as.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="An operator token for /admin.")] = False,
    name: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Expire after this many days.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id", "token"}.')] = False,
) -> None:
    """Create a token and print it once: only its hash is stored."""
    from service.store.db import transaction
    from service.store.tenancy import get_client_by_name, issue_token

    if admin == (client is not None):
        typer.echo("error: give --client NAME or --admin", err=True)
        raise typer.Exit(code=2)
    now = datetime.now(UTC)
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    with opened_store(ctx) as store, fail_on_service_error(), transaction(store.sessions) as session:
        client_id = None
        if client is not None:
            client_id = get_client_by_name(session, name=client).id
        issued = issue_token(
            session,
            client_id=client_id,
            is_admin=admin,
            name=name or (f"{client} token" if client else "admin token"),
            expires_at=expires_at,
            now=now,
        )
    if as_json:
        typer.echo(json.dumps({"id": issued.token.id, "token": issued.secret}))
        return
    typer.echo(f"token {issued.token.id} created; it is shown once, store it now:")
    typer.echo(issued.secret)


@tokens_app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(help="The token's id.")],
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id", "revoked_at"}.')] = False,
) -> None:
    """Revoke a token (API processes notice within seconds)."""
    from service.store.db import transaction
    from service.store.tenancy import revoke_token

    with opened_store(ctx) as store, fail_on_service_error(), transaction(store.sessions) as session:
        token = revoke_token(session, token_id=token_id, now=datetime.now(UTC))
    revoked_at = token.revoked_at.isoformat() if token.revoked_at else None
    if as_json:
        typer.echo(json.dumps({"id": token.id, "revoked_at": revoked_at}))
        return
    typer.echo(f"token {token.id} revoked at {revoked_at}")
