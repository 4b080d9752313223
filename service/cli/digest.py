"""`pmbridge digest`: print a client's digest, as Markdown or as an HTML email body."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer

from service.cli.context import fail_on_service_error, opened_store, settings_from
from service.domain.enums import DigestPeriod


class OutputFormat(StrEnum):
    MD = "md"
    HTML = "html"


def digest(
    ctx: typer.Context,
    client: Annotated[str, typer.Option("--client", help="The client's name.")],
    output_format: Annotated[OutputFormat, typer.Option("--format", help="md or html.")] = OutputFormat.MD,
    period: Annotated[DigestPeriod, typer.Option(help="How far back the digest looks.")] = DigestPeriod.WEEK,
    ending: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="The last day covered (default: today, UTC)."),
    ] = None,
) -> None:
    """Print a client's digest: done, next, promises kept and moved, risks, and ratings asked for.

    Rating links use PMBRIDGE_PUBLIC_URL; without it the digest asks the client to rate in the portal.
    """
    from service.feed.digest import build_digest
    from service.feed.digest_render import render_html, render_markdown
    from service.store.client_views import read_grants
    from service.store.tenancy import get_client_by_name

    last_day = ending.date() if ending is not None else datetime.now(UTC).date()
    base_url = settings_from(ctx).public_url
    with opened_store(ctx) as store, fail_on_service_error(), store.sessions() as session:
        found = get_client_by_name(session, name=client)
        assert found.id is not None
        grants = read_grants(session, client_id=found.id)
        built = build_digest(session, grants, client_name=found.name, period=period, ending=last_day)
    rendered = (
        render_html(built, base_url=base_url)
        if output_format is OutputFormat.HTML
        else render_markdown(built, base_url=base_url)
    )
    typer.echo(rendered, nl=False)
