"""`pmbridge sources`: connect Jira sites and Trello workspaces, list them, register their webhooks
(`service.sync.webhook_setup`) and remove them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.context import STDIN_HELP, fail_on_service_error, opened_store, secret_from, settings_from
from service.domain.enums import SourceKind
from service.errors import ConfigurationError, InvalidInputError

if TYPE_CHECKING:
    from service.domain.work import Source

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
        str | None, typer.Option(help=f"API token (Cloud). {STDIN_HELP}", envvar="PMBRIDGE_JIRA_API_TOKEN")
    ] = None,
    personal_access_token: Annotated[
        str | None,
        typer.Option(
            "--pat", help=f"Personal access token (Data Center). {STDIN_HELP}", envvar="PMBRIDGE_JIRA_PAT"
        ),
    ] = None,
    webhook_secret: Annotated[
        str | None,
        typer.Option(
            help=f"Secret Jira signs webhooks with. {STDIN_HELP}", envvar="PMBRIDGE_JIRA_WEBHOOK_SECRET"
        ),
    ] = None,
    project: Annotated[
        list[str] | None, typer.Option("--project", help="Sync only these project keys (repeatable).")
    ] = None,
    promised_date_field: Annotated[
        str | None, typer.Option(help="Field holding the date promised to clients (default: Due date).")
    ] = None,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private",
            help="Allow a private, loopback or link-local address and plain http (a local sandbox, an "
            "on-premises server); the source records it. Also PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id": …} only.')] = False,
) -> None:
    """Connect a Jira Cloud site (email + API token) or a Data Center server (--pat).

    Secrets come from the environment (PMBRIDGE_JIRA_API_TOKEN, PMBRIDGE_JIRA_PAT,
    PMBRIDGE_JIRA_WEBHOOK_SECRET) or, given as "-", from stdin; never only from the command line."""
    api_token = secret_from(api_token, option="--api-token")
    personal_access_token = secret_from(personal_access_token, option="--pat")
    webhook_secret = secret_from(webhook_secret, option="--webhook-secret")
    from service.domain.work import Source
    from service.store.db import transaction
    from service.store.sources import add_source

    if personal_access_token:
        kind, credentials = SourceKind.JIRA_DATA_CENTER, {"token": personal_access_token}
    elif email and api_token:
        kind, credentials = SourceKind.JIRA_CLOUD, {"email": email, "api_token": api_token}
    else:
        typer.echo("error: give --email and --api-token (Cloud) or --pat (Data Center)", err=True)
        raise typer.Exit(code=2)
    base_url, settings = _outbound(ctx, base_url, allow_private=allow_private)
    if project:
        settings["project_keys"] = [key.upper() for key in project]
    if promised_date_field:
        settings["promised_date_field"] = promised_date_field
    candidate = Source(kind=kind, name=name, base_url=base_url, settings=settings)
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


def _outbound(ctx: typer.Context, base_url: str, *, allow_private: bool) -> tuple[str, dict[str, object]]:
    """The base URL as the outbound policy checks it, and the settings that record the opt-in when
    the source needs it (said on stderr); exits with the reason when the URL is refused."""
    from service.netcheck import ALLOW_PRIVATE_SETTING, check_source_url, needs_private_opt_in, resolve_host

    opted_in = allow_private or settings_from(ctx).allow_private_source_urls
    with fail_on_service_error():
        checked = check_source_url(base_url, allow_private=opted_in, resolver=resolve_host)
    if opted_in and needs_private_opt_in(checked):
        typer.echo(f"allowing a private address or plain http for {checked} (--allow-private)", err=True)
        return checked, {ALLOW_PRIVATE_SETTING: True}
    return checked, {}


def _test_jira_connection(source: Source, credentials: dict[str, str]) -> str:
    from connectors.http import ConnectorError
    from service.providers import provider_for

    try:
        connection = provider_for(source.kind).test_connection(source, credentials)
    except ConnectorError as exc:
        raise InvalidInputError(f"cannot connect to Jira at {source.base_url}: {exc}") from exc
    return connection.server_url


@add_app.command("trello")
def add_trello(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="A unique name for this workspace.")],
    api_key: Annotated[str, typer.Option(help="The Power-Up's API key.", envvar="PMBRIDGE_TRELLO_API_KEY")],
    token: Annotated[
        str, typer.Option(help=f"A member's token. {STDIN_HELP}", envvar="PMBRIDGE_TRELLO_TOKEN")
    ],
    app_secret: Annotated[
        str,
        typer.Option(
            help=f"The app's OAuth secret; Trello signs webhooks with it. {STDIN_HELP}",
            envvar="PMBRIDGE_TRELLO_SECRET",
        ),
    ],
    base_url: Annotated[str, typer.Option(help="The Trello API (or a sandbox).")] = "https://api.trello.com",
    board: Annotated[
        list[str] | None,
        typer.Option("--board", help="Sync only these board ids (repeatable; default: all open boards)."),
    ] = None,
    spent_field: Annotated[
        str | None,
        typer.Option(help="The board custom field (a number, in hours) holding a card's time spent."),
    ] = None,
    estimate_field: Annotated[
        str | None,
        typer.Option(
            help="The board custom field (a number, in hours) holding a card's estimate (default: a number "
            'field named like "Estimate (h)").'
        ),
    ] = None,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private",
            help="Allow a private, loopback or link-local address and plain http (a local sandbox, an "
            "on-premises server); the source records it. Also PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Connect a Trello workspace (API key + token); registers webhooks when PMBRIDGE_PUBLIC_URL is set.

    The token and the app secret come from the environment (PMBRIDGE_TRELLO_TOKEN,
    PMBRIDGE_TRELLO_SECRET) or, given as "-", from stdin (one line each, token first)."""
    token = secret_from(token, option="--token") or ""
    app_secret = secret_from(app_secret, option="--app-secret") or ""
    from connectors.trello import is_trello_id
    from service.domain.work import Source
    from service.store.db import transaction
    from service.store.sources import add_source
    from service.sync.trello_settings import ESTIMATE_FIELD_KEY, SPENT_FIELD_KEY, TrelloSyncSettings
    from service.sync.webhook_setup import find_trello_boards, register_webhooks

    boards = [item.lower() for item in board or []]
    if not all(is_trello_id(item) for item in boards):
        typer.echo("error: --board takes board ids (24 hex digits)", err=True)
        raise typer.Exit(code=2)
    credentials = {"api_key": api_key, "token": token}
    base_url, settings = _outbound(ctx, base_url, allow_private=allow_private)
    if boards:
        settings["board_ids"] = boards
    for key, field_name in ((SPENT_FIELD_KEY, spent_field), (ESTIMATE_FIELD_KEY, estimate_field)):
        if field_name is not None:
            settings[key] = field_name
    try:
        TrelloSyncSettings.from_settings(settings)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    candidate = Source(kind=SourceKind.TRELLO, name=name, base_url=base_url, settings=settings)
    with fail_on_service_error():
        member, board_ids = find_trello_boards(candidate, credentials, wanted=boards)
        with opened_store(ctx) as store, transaction(store.sessions) as session:
            source = add_source(
                session,
                cipher=store.cipher,
                kind=SourceKind.TRELLO,
                name=name,
                base_url=candidate.base_url,
                credentials=credentials,
                webhook_secret=app_secret,
                settings=settings,
                now=datetime.now(UTC),
            )
    assert source.id is not None
    with fail_on_service_error():
        report = register_webhooks(
            source, credentials, board_ids=board_ids, public_url=settings_from(ctx).public_url
        ).to_json()
    if as_json:
        typer.echo(json.dumps({**report, "boards": board_ids}))
        return
    typer.echo(f"connected trello source {source.id} ({name}) as {member}, {len(board_ids)} boards")
    _echo_webhook_report(source.id, report)


@sources_app.command("webhooks")
def register_webhooks(
    ctx: typer.Context,
    source: Annotated[int, typer.Option("--source", help="The Trello source id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Register (or confirm) Trello webhooks for a source's boards at PMBRIDGE_PUBLIC_URL."""
    from service.sync.webhook_setup import register_source_webhooks

    public_url = settings_from(ctx).public_url
    with fail_on_service_error(), opened_store(ctx) as store:
        report = register_source_webhooks(store, source_id=source, public_url=public_url)
    if as_json:
        typer.echo(json.dumps(report.to_json()))
        return
    _echo_webhook_report(source, report.to_json())


def _echo_webhook_report(source_id: int, report: dict[str, object]) -> None:
    webhooks = report["webhooks"]
    if report["callback_url"] is None:
        typer.echo(
            "no webhooks registered: set PMBRIDGE_PUBLIC_URL to the URL Trello reaches this service at, "
            f"start it (`pmbridge serve`), then run `pmbridge sources webhooks --source {source_id}`; "
            "until then `pmbridge sync` polls"
        )
        return
    assert isinstance(webhooks, dict)
    for board_id, outcome in webhooks.items():
        typer.echo(f"  board {board_id}: webhook {outcome}")


@sources_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List connected sources (credentials are never shown)."""
    from service.store.sources import list_sources

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


@sources_app.command("remove")
def remove(
    ctx: typer.Context,
    source_id: Annotated[
        int, typer.Argument(metavar="ID", help="The source's id (`pmbridge sources list`).")
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Remove without showing what goes and asking first.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"removed": {…counts by kind}, "comments": {…}}; the preview and the question '
            "go to stderr.",
        ),
    ] = False,
) -> None:
    """Remove a source with everything synced from it and every flag, commitment and client scope on
    it; its pushed flag comments are edited to say the item is no longer tracked, where the source
    still answers. Without --yes, shows what removal deletes (counts per kind) and asks first."""
    from dataclasses import asdict

    from service.flags.removal import remove_source
    from service.store.db import reading
    from service.store.source_removal import count_source_removal

    with opened_store(ctx) as store, fail_on_service_error():
        if not yes:
            with reading(store.sessions) as session:
                preview = count_source_removal(session, source_id=source_id)
            typer.echo(_removal_text(asdict(preview), heading="removing it deletes"), err=as_json)
            if not typer.confirm(f"Remove source {source_id} ({preview.name})?", err=as_json):
                typer.echo("nothing removed", err=True)
                raise typer.Exit(code=1)
        removed = remove_source(store, source_id=source_id)
    counts, comments = asdict(removed.removal), asdict(removed.comments)
    if as_json:
        typer.echo(json.dumps({"removed": counts, "comments": comments}))
        return
    typer.echo(_removal_text(counts, heading="removed", to_edit=False))
    typer.echo(
        f"pushed comments: {comments['edited']} now say the item is no longer tracked, "
        f"{comments['gone']} no longer exist, {comments['not_edited']} not edited"
    )
    if comments["error"]:
        typer.echo(f"comments not edited because: {comments['error']}", err=True)


# What a removal keeps of the clients' history, against what it deletes.
_KEPT = ("feed_events_kept", "feedback_unlinked")


def _removal_text(counts: dict[str, object], *, heading: str, to_edit: bool = True) -> str:
    skipped = ("source_id", "name", "pushed_comments", *_KEPT)
    deleted = [(k, v) for k, v in counts.items() if k not in skipped]
    width = max(len(k) for k, _ in deleted)
    lines = [f"source {counts['source_id']} ({counts['name']}): {heading}"]
    lines += [f"  {kind.replace('_', ' '):<{width}}  {count}" for kind, count in deleted]
    lines.append('kept for the clients\' history (docs/ARCHITECTURE.md, "Removing a source"):')
    lines += [f"  {kind.replace('_', ' '):<{width}}  {counts[kind]}" for kind in _KEPT]
    if to_edit:
        lines.append(f"flag comments to mark no longer tracked: {counts['pushed_comments']}")
    return "\n".join(lines)
